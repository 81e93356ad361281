/// The OpenAPI links of the document: which answer names the id another operation takes.
///
/// They tell clients how the operations chain (a posted job's `id` is the `{id}` of its bids, messages and transitions),
/// and they let a stateful fuzzer (schemathesis' stateful phase) follow real ids into the sub-routes instead of
/// guessing UUIDs that are never found.
enum OpenAPILinks {
    /// One link: the target operation's `{id}` is read at `pointer` (a JSON pointer) in the source's successful answer.
    struct Link: Hashable {
        let operationID: String
        let pointer: String
    }

    /// Links by source operation.
    static let bySource: [String: [Link]] = {
        let jobOperations = [
            "getJob", "updateJob", "listBids", "submitBid", "listMessages", "postMessage", "listJobReviews", "reviewJob", "cancelJob",
            "startJob", "completeJob", "approveJob",
        ]
        let bidOperations = ["getBid", "acceptBid", "withdrawBid"]
        let disputeOperations = ["getDispute", "respondToDispute", "resolveDispute"]
        let userOperations = ["getUser", "listUserReviews"]
        func links(_ operations: [String], at pointer: String) -> [Link] { operations.map { Link(operationID: $0, pointer: pointer) } }
        return [
            "postJob": links(jobOperations, at: "/id"),
            "getJob": links(jobOperations.filter { $0 != "getJob" }, at: "/id"),
            "searchJobs": links(jobOperations, at: "/items/0/id"),
            "submitBid": links(bidOperations, at: "/id") + links(["getJob"], at: "/jobId"),
            "listBids": links(bidOperations, at: "/items/0/id"),
            "listMyBids": links(bidOperations, at: "/items/0/id"),
            "openDispute": links(disputeOperations, at: "/id"),
            "listDisputes": links(disputeOperations, at: "/items/0/id"),
            "adminDisputeQueue": links(disputeOperations, at: "/items/0/id"),
            "getMe": links(userOperations, at: "/id"),
            "adminListUsers": links(userOperations + ["suspendUser", "unsuspendUser", "setVetting"], at: "/items/0/id"),
        ]
    }()

    /// The `links` object of `operationID`'s successful answer, if it has links.
    static func object(for operationID: String) -> JSONValue? {
        guard let links = bySource[operationID], !links.isEmpty else { return nil }
        return .object(
            Dictionary(
                uniqueKeysWithValues: links.map { link in
                    (link.operationID, ["operationId": .string(link.operationID), "parameters": ["id": .string("$response.body#" + link.pointer)]])
                }))
    }
}
