/// The message thread of a job between its owner and the awarded contractor; admins may read it.
public struct MessageService: Sendable {
    let environment: ServiceEnvironment
    init(_ environment: ServiceEnvironment) { self.environment = environment }

    /// Posts a message (the job's owner or awarded contractor, once the job is awarded).
    public func post(by principal: Principal, job jobID: JobID, body: String) async throws -> Message {
        var validator = Validator()
        let body = validator.text(body, field: "body", max: 4_000)
        try validator.check()
        return try await environment.acting("message.post", as: principal, onJob: jobID) { store, actor, job in
            guard job.isParty(actor.id), let contractorID = job.contractorID else {
                throw TradesKitError.forbidden("Only the homeowner and the awarded contractor can message on this job")
            }
            let now = environment.now()
            let message = Message(id: environment.ids.make(), jobID: job.id, senderID: actor.id, body: body, createdAt: now)
            var changes = ChangeSet()
            changes.expectCaller(actor)
            changes.append(.insertMessage(message))
            let recipient = actor.id == job.ownerID ? contractorID : job.ownerID
            try environment.record(
                MessagePosted(messageID: message.id, jobID: job.id, senderID: actor.id, recipientID: recipient), in: &changes, at: now)
            try await store.commit(changes)
            return message
        }
    }

    /// The thread, oldest first (the parties and admins).
    public func list(by principal: Principal, job jobID: JobID, page: PageRequest = PageRequest()) async throws -> Page<Message> {
        try await environment.acting("message.list", as: principal, onJob: jobID) { store, actor, job in
            guard actor.role == .admin || (job.isParty(actor.id) && job.contractorID != nil) else { throw TradesKitError.notFound("Thread") }
            return try await store.messages(job: job.id, page: page)
        }
    }
}
