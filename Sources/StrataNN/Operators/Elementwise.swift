import CStrataKernels
import Foundation
import StrataCore

/// Elementwise operators: activations, arithmetic with broadcasting, comparisons, Where.
enum Elementwise {
    static func register(_ t: inout [String: Operator]) {
        // Activations and float math (float only, as the networks use them).
        unary(&t, "Relu", FloatRelu())
        unary(&t, "Sigmoid") { sigmoid($0) }
        unary(&t, "Tanh") { tanh($0) }
        unary(&t, "Exp") { exp($0) }
        unary(&t, "Log") { log($0) }
        unary(&t, "Sqrt") { $0.squareRoot() }
        unary(&t, "Reciprocal") { 1 / $0 }
        unary(&t, "Floor") { $0.rounded(.down) }
        unary(&t, "Ceil") { $0.rounded(.up) }
        unary(&t, "Round") { $0.rounded(.toNearestOrEven) }
        // In Double: graphs build window functions from these, and Float's sin of large
        // arguments is off by more than the tolerances the exporters' references meet.
        unary(&t, "Sin") { Float(sin(Double($0))) }
        unary(&t, "Cos") { Float(cos(Double($0))) }
        unary(&t, "Erf") { erf($0) }
        unary(&t, "Softplus") { $0 > 20 ? $0 : log1p(exp($0)) }
        unary(&t, "Softsign") { $0 / (1 + abs($0)) }
        unary(&t, "HardSwish") { $0 * min(1, max(0, $0 / 6 + 0.5)) }
        unaryWith(&t, "HardSigmoid") { a in
            let (alpha, beta) = (a.float("alpha", 0.2), a.float("beta", 0.5))
            return { min(1, max(0, alpha * $0 + beta)) }
        }
        unaryWith(&t, "LeakyRelu") { a in
            let alpha = a.float("alpha", 0.01)
            return { $0 < 0 ? alpha * $0 : $0 }
        }
        unaryWith(&t, "Elu") { a in
            let alpha = a.float("alpha", 1)
            return { $0 < 0 ? alpha * (exp($0) - 1) : $0 }
        }
        unaryWith(&t, "Selu") { a in
            let (alpha, gamma) = (a.float("alpha", 1.67326319217681884765625), a.float("gamma", 1.05070102214813232421875))
            return { $0 <= 0 ? gamma * (alpha * exp($0) - alpha) : gamma * $0 }
        }
        unaryWith(&t, "ThresholdedRelu") { a in
            let alpha = a.float("alpha", 1)
            return { $0 > alpha ? $0 : 0 }
        }
        unaryWith(&t, "Gelu") { a -> @Sendable (Float) -> Float in
            if a.string("approximate", "none") == "tanh" { return { geluTanh($0) } }
            return { gelu($0) }
        }
        let tanhGelu = t["Gelu"]!.run
        t["Gelu"]!.run = { c in
            guard c.attributes.string("approximate", "none") == "none", let v = try c.input(0).floats else { return try tanhGelu(c) }
            return [Tensor(shape: try c.input(0).shape, floats: geluVector(v))]
        }
        t["Gelu"]?.check = { node, _ in
            let mode = Attributes(values: node.attributes).string("approximate", "none")
            return ["none", "tanh"].contains(mode) ? nil : "Gelu approximate \"\(mode)\" is not supported"
        }

        // Sign-agnostic ops that also run on int64 (shape arithmetic).
        t["Neg"] = Operator { c in [try mapNumeric(c.input(0), { -$0 }, { -$0 })] }
        t["Abs"] = Operator { c in [try mapNumeric(c.input(0), { abs($0) }, { abs($0) })] }
        t["Sign"] = Operator { c in [try mapNumeric(c.input(0), { $0 > 0 ? 1 : $0 < 0 ? -1 : 0 }, { $0.signum() })] }
        t["Identity"] = Operator { c in [try c.input(0)] }
        t["Not"] = Operator { c in
            let x = try c.input(0)
            guard let b = x.bools else { throw NNError.invalidTensor("Not takes bool, not \(x.dataType)") }
            return [Tensor(shape: x.shape, bools: b.map { !$0 })]
        }
        t["Clip"] = Operator(run: clip)

        // Arithmetic with broadcasting.
        binary(&t, "Add", .add)
        binary(&t, "Sub", .sub)
        binary(&t, "Mul", .mul)
        binary(&t, "Div", .div)
        t["Pow"] = Operator { c in
            let (base, exponent) = (try c.input(0), try c.input(1))
            if let ints = base.int64s {
                // The result has the base's type: integer powers, computed in Double and truncated.
                let e = try exponent.floats.map { $0.map(Double.init) } ?? exponent.int64s.map { $0.map(Double.init) }
                    ?? { throw NNError.invalidTensor("Pow exponent must be numeric, not \(exponent.dataType)") }()
                let plan = try Broadcast([base.shape, exponent.shape])
                let index = plan.indices()
                return [Tensor(shape: plan.shape, int64: (0..<plan.count).map { Int64(pow(Double(ints[index[0][$0]]), e[index[1][$0]]).rounded(.towardZero)) })]
            }
            guard let b = base.floats else { throw NNError.invalidTensor("Pow base must be numeric, not \(base.dataType)") }
            let e = try exponent.floats ?? exponent.int64s.map { $0.map(Float.init) }
                ?? { throw NNError.invalidTensor("Pow exponent must be float or int64, not \(exponent.dataType)") }()
            let plan = try Broadcast([base.shape, exponent.shape])
            // Squares and square roots are what the LayerNorm and GELU patterns use: exact and fast.
            if e.count == 1 && e[0] == 2 { return [Tensor(shape: plan.shape, floats: broadcastFloats(b, e, plan) { x, _ in x * x })] }
            if e.count == 1 && e[0] == 0.5 { return [Tensor(shape: plan.shape, floats: broadcastFloats(b, e, plan) { x, _ in x.squareRoot() })] }
            return [Tensor(shape: plan.shape, floats: broadcastFloats(b, e, plan) { pow($0, $1) })]
        }
        t["PRelu"] = Operator { c in
            let (x, slope) = (try c.floats(0), try c.floats(1))
            let plan = try Broadcast([x.shape, slope.shape])
            guard plan.shape == x.shape else { throw NNError.invalidTensor("PRelu slope \(slope.shape) does not broadcast to \(x.shape)") }
            return [Tensor(shape: plan.shape, floats: broadcastFloats(x.values, slope.values, plan) { $0 < 0 ? $0 * $1 : $0 })]
        }
        variadic(&t, "Max", .max)
        variadic(&t, "Min", .min)
        variadic(&t, "Sum", .add)
        t["Mean"] = Operator { c in
            let sum = try fold(c, .add)
            guard let values = sum.floats else { throw NNError.invalidTensor("Mean takes float tensors") }
            let n = Float(c.inputs.count)
            return [Tensor(shape: sum.shape, floats: values.map { $0 / n })]
        }

        // Comparisons and logic: bool results.
        compare(&t, "Equal", { $0 == $1 }, { $0 == $1 }, { $0 == $1 })
        compare(&t, "Less", { $0 < $1 }, { $0 < $1 }, nil)
        compare(&t, "LessOrEqual", { $0 <= $1 }, { $0 <= $1 }, nil)
        compare(&t, "Greater", { $0 > $1 }, { $0 > $1 }, nil)
        compare(&t, "GreaterOrEqual", { $0 >= $1 }, { $0 >= $1 }, nil)
        compare(&t, "And", nil, nil, { $0 && $1 })
        compare(&t, "Or", nil, nil, { $0 || $1 })
        compare(&t, "Xor", nil, nil, { $0 != $1 })
        t["Where"] = Operator(run: whereOp)
    }

    // MARK: Kernels

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        // Never exp of a large positive number: no overflow to inf/inf.
        if x >= 0 { return 1 / (1 + exp(-x)) }
        let e = exp(x)
        return e / (1 + e)
    }

    @inline(__always)
    static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erf(x * 0.70710678118654752)) }

    @inline(__always)
    static func geluTanh(_ x: Float) -> Float { 0.5 * x * (1 + tanh(0.79788456080286536 * (x + 0.044715 * x * x * x))) }

    /// GELU, x · Φ(x), on the vectors of the chosen instruction set (`strata_gelu`: erf
    /// within 5e-7), in bands across the cores.
    static func geluVector(_ x: [Float], isa: KernelISA = .selected) -> [Float] {
        guard !x.isEmpty else { return [] }
        return [Float](largeCount: x.count) { out in
            x.withUnsafeBufferPointer { src in
                let (o, s) = (UncheckedSendable(out.baseAddress!), UncheckedSendable(src.baseAddress!))
                Parallel.forEachBand(x.count, minimumBand: 1 << 15) { range in
                    strata_gelu(isa.rawValue, s.value + range.lowerBound, o.value + range.lowerBound, range.count)
                }
            }
        }
    }

    /// `f` over every element, on several cores for large tensors.
    @inline(__always)
    static func mapFloats(_ x: [Float], _ f: @escaping (Float) -> Float) -> [Float] { mapFloats(x, FloatUnaryClosure(body: f)) }

    /// `f` of every element, on several cores for large tensors; compiled for each
    /// operation type (see `FloatBinaryOperation`).
    static func mapFloats<Operation: FloatUnaryOperation>(_ x: [Float], _ f: Operation) -> [Float] {
        [Float](largeCount: x.count) { out in
            x.withUnsafeBufferPointer { src in
                let (o, operation) = (UncheckedSendable(out.baseAddress!), UncheckedSendable(f))
                Parallel.forEachBand(x.count, minimumBand: 1 << 15) { range in
                    let f = operation.value
                    for i in range { o.value[i] = f(src[i]) }
                }
            }
        }
    }

    static func unary(_ t: inout [String: Operator], _ name: String, _ f: @escaping @Sendable (Float) -> Float) {
        unary(&t, name, FloatUnaryClosure(body: f))
    }

    /// A unary operator whose loop is compiled for its operation (the ones the networks leave unfused).
    static func unary<Operation: FloatUnaryOperation & Sendable>(_ t: inout [String: Operator], _ name: String, _ f: Operation) {
        t[name] = Operator { c in
            let x = try c.input(0)
            guard let v = x.floats else { throw NNError.invalidTensor("\(name) takes float, not \(x.dataType)") }
            return [Tensor(shape: x.shape, floats: mapFloats(v, f))]
        }
    }

    /// A unary op whose function depends on the node's attributes.
    static func unaryWith(_ t: inout [String: Operator], _ name: String,
                          _ make: @escaping @Sendable (Attributes) -> @Sendable (Float) -> Float) {
        t[name] = Operator { c in
            let x = try c.input(0)
            guard let v = x.floats else { throw NNError.invalidTensor("\(name) takes float, not \(x.dataType)") }
            return [Tensor(shape: x.shape, floats: mapFloats(v, make(c.attributes)))]
        }
    }

    static func mapNumeric(_ x: Tensor, _ f: @escaping (Float) -> Float, _ g: (Int64) -> Int64) throws -> Tensor {
        switch x.storage {
        case .float(let v): return Tensor(shape: x.shape, floats: mapFloats(v, f))
        case .int64(let v): return Tensor(shape: x.shape, int64: v.map(g))
        case .bool: throw NNError.invalidTensor("a bool tensor has no arithmetic")
        }
    }

    /// The arithmetic of the binary operators, as a value so each gets its own inlined loop.
    enum Arithmetic: Sendable {
        case add, sub, mul, div, max, min

        func floats(_ x: [Float], _ y: [Float], _ plan: Broadcast) -> [Float] {
            switch self {
            case .add: return broadcastFloats(x, y, plan, FloatAdd())
            case .sub: return broadcastFloats(x, y, plan, FloatSubtract())
            case .mul: return broadcastFloats(x, y, plan, FloatMultiply())
            case .div: return broadcastFloats(x, y, plan, FloatDivide())
            case .max: return broadcastFloats(x, y, plan, FloatMaximum())
            case .min: return broadcastFloats(x, y, plan, FloatMinimum())
            }
        }

        /// Integer arithmetic as C does it (division truncates; by zero gives 0, not a trap).
        func int(_ a: Int64, _ b: Int64) -> Int64 {
            switch self {
            case .add: return a &+ b
            case .sub: return a &- b
            case .mul: return a &* b
            case .div: return b == 0 ? 0 : a / b
            case .max: return Swift.max(a, b)
            case .min: return Swift.min(a, b)
            }
        }
    }

    /// Two same-typed operands broadcast together.
    static func apply(_ a: Tensor, _ b: Tensor, _ op: Arithmetic) throws -> Tensor {
        let plan = try Broadcast([a.shape, b.shape])
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)):
            return Tensor(shape: plan.shape, floats: op.floats(x, y, plan))
        case (.int64(let x), .int64(let y)):
            let index = plan.indices()
            return Tensor(shape: plan.shape, int64: (0..<plan.count).map { op.int(x[index[0][$0]], y[index[1][$0]]) })
        default:
            throw NNError.invalidTensor("operands are \(a.dataType) and \(b.dataType); they must be the same numeric type")
        }
    }

    static func binary(_ t: inout [String: Operator], _ name: String, _ op: Arithmetic) {
        t[name] = Operator(check: legacyBroadcast, run: { c in [try apply(c.input(0), c.input(1), op)] })
    }

    /// Before opset 7 arithmetic broadcast only when told, along a given axis: not NumPy's rules.
    static let legacyBroadcast: @Sendable (Node, LoadContext) -> String? = { node, context in
        context.opset < 7 && Attributes(values: node.attributes).int("broadcast", 0) == 1
            ? "\(node.opType) with opset \(context.opset)'s broadcast attribute is not supported" : nil
    }

    /// Max, Min, Sum: any number of operands, folded left to right.
    static func fold(_ c: OpContext, _ op: Arithmetic) throws -> Tensor {
        var result = try c.input(0)
        for i in 1..<max(1, c.inputs.count) { result = try apply(result, c.input(i), op) }
        return result
    }

    static func variadic(_ t: inout [String: Operator], _ name: String, _ op: Arithmetic) {
        t[name] = Operator { c in [try fold(c, op)] }
    }

    static func compare(_ t: inout [String: Operator], _ name: String, _ f: (@Sendable (Float, Float) -> Bool)?,
                        _ g: (@Sendable (Int64, Int64) -> Bool)?, _ h: (@Sendable (Bool, Bool) -> Bool)?) {
        t[name] = Operator { c in
            let (a, b) = (try c.input(0), try c.input(1))
            let plan = try Broadcast([a.shape, b.shape])
            let index = plan.indices()
            let result: [Bool]
            switch (a.storage, b.storage) {
            case (.float(let x), .float(let y)) where f != nil: result = (0..<plan.count).map { f!(x[index[0][$0]], y[index[1][$0]]) }
            case (.int64(let x), .int64(let y)) where g != nil: result = (0..<plan.count).map { g!(x[index[0][$0]], y[index[1][$0]]) }
            case (.bool(let x), .bool(let y)) where h != nil: result = (0..<plan.count).map { h!(x[index[0][$0]], y[index[1][$0]]) }
            default: throw NNError.invalidTensor("\(name) does not take \(a.dataType) and \(b.dataType)")
            }
            return [Tensor(shape: plan.shape, bools: result)]
        }
    }

    static func whereOp(_ c: OpContext) throws -> [Tensor] {
        let (condition, a, b) = (try c.input(0), try c.input(1), try c.input(2))
        guard let cond = condition.bools else { throw NNError.invalidTensor("Where condition must be bool, not \(condition.dataType)") }
        let plan = try Broadcast([condition.shape, a.shape, b.shape])
        let index = plan.indices()
        let n = plan.count
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)):
            return [Tensor(shape: plan.shape, floats: (0..<n).map { cond[index[0][$0]] ? x[index[1][$0]] : y[index[2][$0]] })]
        case (.int64(let x), .int64(let y)):
            return [Tensor(shape: plan.shape, int64: (0..<n).map { cond[index[0][$0]] ? x[index[1][$0]] : y[index[2][$0]] })]
        case (.bool(let x), .bool(let y)):
            return [Tensor(shape: plan.shape, bools: (0..<n).map { cond[index[0][$0]] ? x[index[1][$0]] : y[index[2][$0]] })]
        default:
            throw NNError.invalidTensor("Where branches are \(a.dataType) and \(b.dataType); they must match")
        }
    }

    /// Clip: bounds as attributes before opset 11, as optional inputs from 11.
    static func clip(_ c: OpContext) throws -> [Tensor] {
        let x = try c.input(0)
        switch x.storage {
        case .float(let v):
            var lo = -Float.greatestFiniteMagnitude, hi = Float.greatestFiniteMagnitude
            if c.opset < 11 {
                lo = c.attributes.float("min", lo)
                hi = c.attributes.float("max", hi)
            } else {
                if let m = c.optional(1) { lo = try scalar(m) }
                if let m = c.optional(2) { hi = try scalar(m) }
            }
            return [Tensor(shape: x.shape, floats: mapFloats(v) { min(max($0, lo), hi) })]
        case .int64(let v):
            let lo = try c.optional(1).map { try $0.int64s?.first ?? { throw NNError.invalidTensor("Clip min must be int64") }() } ?? Int64.min
            let hi = try c.optional(2).map { try $0.int64s?.first ?? { throw NNError.invalidTensor("Clip max must be int64") }() } ?? Int64.max
            return [Tensor(shape: x.shape, int64: v.map { min(max($0, lo), hi) })]
        case .bool:
            throw NNError.invalidTensor("Clip does not take bool")
        }
    }

    /// A one-element float tensor's value.
    static func scalar(_ t: Tensor) throws -> Float {
        guard t.count == 1, let v = t.floats?.first ?? t.int64s?.first.map(Float.init) else {
            throw NNError.invalidTensor("a scalar was expected, got \(t.dataType) \(t.shape)")
        }
        return v
    }
}
