import Foundation
import TradesKit

// The answers of the busiest routes write their own JSON (see ``JSONWritable``): members in sorted key order, `nil`
// ones left out, exactly as their synthesized `Encodable` conformance does through the server's encoder.

extension JobResponse: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        if let acceptedBidId {
            json.key("acceptedBidId")
            json.id(acceptedBidId)
        }
        json.key("budget")
        json.budget(budget)
        json.key("categoryId")
        json.id(categoryId)
        if let closedAt {
            json.key("closedAt")
            json.date(closedAt)
        }
        if let completedAt {
            json.key("completedAt")
            json.date(completedAt)
        }
        if let contractorId {
            json.key("contractorId")
            json.id(contractorId)
        }
        json.key("createdAt")
        json.date(createdAt)
        json.key("description")
        json.string(description)
        json.key("id")
        json.id(id)
        json.key("location")
        json.point(location)
        json.key("ownerId")
        json.id(ownerId)
        json.key("status")
        json.string(status.rawValue)
        json.key("title")
        json.string(title)
        json.key("updatedAt")
        json.date(updatedAt)
        json.key("version")
        json.integer(version)
        json.endObject()
    }
}

extension BidResponse: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("amount")
        json.money(amount)
        json.key("contractorId")
        json.id(contractorId)
        json.key("createdAt")
        json.date(createdAt)
        json.key("id")
        json.id(id)
        json.key("jobId")
        json.id(jobId)
        json.key("message")
        json.string(message)
        json.key("status")
        json.string(status.rawValue)
        json.key("updatedAt")
        json.date(updatedAt)
        json.endObject()
    }
}

extension MessageResponse: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("body")
        json.string(body)
        json.key("createdAt")
        json.date(createdAt)
        json.key("id")
        json.id(id)
        json.key("jobId")
        json.id(jobId)
        json.key("senderId")
        json.id(senderId)
        json.endObject()
    }
}

extension ListResponse: JSONWritable where Item: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.beginObject()
        json.key("items")
        json.beginArray()
        for item in items {
            json.element()
            item.write(to: &json)
        }
        json.endArray()
        json.key("nextCursor")
        if let nextCursor { json.string(nextCursor) } else { json.null() }
        json.endObject()
    }
}
