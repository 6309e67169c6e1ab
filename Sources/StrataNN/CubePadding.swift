import StrataCore

/// Cube padding inside the network (Cheng et al. 2018; 360° SfMLearner): for inputs whose
/// batch holds cube faces in F R B L U D order (N a multiple of 6, square faces), every
/// Conv, MaxPool and AveragePool that pads takes its padding from the neighbouring faces,
/// turned and flipped to match across each of the 24 face-edge pairs, instead of zeros,
/// so the network never sees a face border.
///
/// The engine knows nothing of cube geometry: the caller gives, for faces n × n padded by
/// p, where each padded pixel comes from (StrataSphere's `Cubemap.copyPaddingSources`).
/// A session prepared for known input shapes rewrites every such node into a gather of
/// the padded faces followed by the node without padding; `Session.rewrites["cube
/// padding"]` counts them (0 for a model with no padded convolutions).
public struct CubePadding: Sendable {
    /// For faces `faceSize` square padded by `padding` on every side: entry
    /// `(f × s + y) × s + x` (s = faceSize + 2 × padding) is the index `f′ × n² + y′ × n + x′`
    /// of the unpadded pixel that padded pixel (x, y) of face f copies.
    public let sources: @Sendable (_ faceSize: Int, _ padding: Int) -> [Int32]

    public init(sources: @escaping @Sendable (_ faceSize: Int, _ padding: Int) -> [Int32]) { self.sources = sources }
}

extension GraphPreparation {
    /// Rewrites every padded Conv, MaxPool and AveragePool over cube faces into
    /// `strata.CubePad` (the faces padded from their neighbours) and the node with no pads.
    /// Nodes whose input shape is unknown, not a batch of whole cubes of square faces, or
    /// padded by more than a face are left as they are.
    mutating func padFromNeighbourFaces(_ cube: CubePadding) {
        var rewritten: [Node] = []
        for (index, node) in nodes.enumerated() {
            guard ["Conv", "MaxPool", "AveragePool"].contains(node.opType), let x = node.inputs.first, let shape = shapes[x],
                  shape.count == 4, shape[0] > 0, shape[0] % 6 == 0, shape[2] == shape[3], shape[2] > 0 else {
                rewritten.append(node)
                continue
            }
            let attributes = Attributes(values: node.attributes)
            let kernel: [Int]?
            if node.opType == "Conv" {
                kernel = node.inputs.count > 1 ? (constants[node.inputs[1]]?.shape ?? shapes[node.inputs[1]]).map { Array($0.dropFirst(2)) } : nil
            } else {
                kernel = attributes.ints("kernel_shape")
            }
            let n = shape[2]
            guard let kernel, let window = try? Window(attributes: attributes, spatial: [n, n], kernel: kernel,
                                                       ceilMode: attributes.int("ceil_mode", 0) == 1, op: node.opType) else {
                rewritten.append(node)
                continue
            }
            let pads = [window.padTop, window.padLeft, window.padBottom, window.padRight]
            let p = pads.max()!
            guard p > 0, p <= n else {
                rewritten.append(node)
                continue
            }
            let table = "strata.cubePadding.\(n).\(p)"
            if constants[table] == nil {
                constants[table] = Tensor(shape: [6, n + 2 * p, n + 2 * p], int64: cube.sources(n, p).map(Int64.init))
            }
            let padded = "\(x).strata.cubePadded.\(index)"
            rewritten.append(Node(name: "\(node.name.isEmpty ? node.opType : node.name) cube padding", opType: "strata.CubePad", domain: "",
                                  inputs: [x, table], outputs: [padded], attributes: ["pads": .ints(pads)]))
            shapes[padded] = [shape[0], shape[1], n + pads[0] + pads[2], n + pads[1] + pads[3]]
            var unpadded = node
            unpadded.inputs[0] = padded
            unpadded.attributes["pads"] = .ints([0, 0, 0, 0])
            unpadded.attributes["auto_pad"] = .string("NOTSET")
            rewritten.append(unpadded)
            record("cube padding")
        }
        nodes = rewritten
    }
}

/// `strata.CubePad`: faces [N, C, n, n] (N a multiple of 6) padded by `pads` (top, left,
/// bottom, right) from their neighbours, gathering through the table in input 1.
enum CubePadOps {
    static func register(_ table: inout [String: Operator]) {
        table["strata.CubePad"] = Operator { c in
            let (shape, x) = try c.floats(0)
            let sources = try c.input(1)
            guard let pads = c.attributes.ints("pads"), pads.count == 4, shape.count == 4, shape[0] % 6 == 0, shape[2] == shape[3],
                  let index = sources.int64s, sources.shape.count == 3, sources.shape[0] == 6 else {
                throw NNError.invalidTensor("cube padding takes N × C × n × n faces with N a multiple of 6, got \(shape)")
            }
            let (batch, channels, n) = (shape[0], shape[1], shape[2])
            let side = sources.shape[1], p = (side - n) / 2
            let (pt, pl, pb, pr) = (pads[0], pads[1], pads[2], pads[3])
            guard side == n + 2 * p, [pt, pl, pb, pr].allSatisfy({ $0 <= p }) else {
                throw NNError.invalidTensor("cube padding table of side \(side) for faces of \(n) padded by \(pads)")
            }
            let (oh, ow) = (n + pt + pb, n + pl + pr)
            var out = [Float](repeating: 0, count: batch * channels * oh * ow)
            let plane = n * n, facePlanes = channels * plane
            let planes = batch * channels
            x.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    let (s, d) = (UncheckedSendable(src.baseAddress!), UncheckedSendable(dst.baseAddress!))
                    Parallel.forEachBand(planes) { range in
                        for k in range {
                            let (b, ch) = (k / channels, k % channels)
                            let (cubeBase, face) = ((b / 6) * 6 * facePlanes + ch * plane, b % 6)
                            var o = k * oh * ow
                            for y in 0..<oh {
                                let row = (face * side + y + p - pt) * side + p - pl
                                for xx in 0..<ow {
                                    let i = Int(index[row + xx])
                                    // Source face i / n², pixel i % n² of channel ch of the same cube.
                                    d.value[o] = s.value[cubeBase + (i / plane) * facePlanes + i % plane]
                                    o += 1
                                }
                            }
                        }
                    }
                }
            }
            return [Tensor(shape: [batch, channels, oh, ow], floats: out)]
        }
    }
}
