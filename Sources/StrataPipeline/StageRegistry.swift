/// The stages a runner knows, by name: each one's descriptor, and the factory that builds
/// it for a run (a registry used only to validate may leave factories out).
public struct StageRegistry: Sendable {
    public private(set) var stages: [String: StageDescriptor] = [:]
    private var factories: [String: StageFactory] = [:]

    public init(_ descriptors: [StageDescriptor] = []) {
        for d in descriptors { register(d) }
    }

    /// Adds a stage; a second stage of the same name is a programming error.
    public mutating func register(_ descriptor: StageDescriptor, factory: StageFactory? = nil) {
        precondition(stages[descriptor.name] == nil, "stage \(descriptor.name) registered twice")
        stages[descriptor.name] = descriptor
        factories[descriptor.name] = factory
    }

    public subscript(name: String) -> StageDescriptor? { stages[name] }

    /// The factory of stage `name`, when it can run.
    public func factory(_ name: String) -> StageFactory? { factories[name] }
}
