/// The sliding-window geometry shared by convolutions and pools over one or two spatial
/// axes (a 1-D window is a 2-D one of height 1): kernel, strides, dilations, pads, output.
struct Window: Equatable {
    var kernel: (h: Int, w: Int)
    var stride: (h: Int, w: Int)
    var dilation: (h: Int, w: Int)
    /// Pads before and after, per axis.
    var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    var input: (h: Int, w: Int)
    var output: (h: Int, w: Int)

    static func == (a: Window, b: Window) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.dilation == b.dilation && a.input == b.input && a.output == b.output
            && (a.padTop, a.padLeft, a.padBottom, a.padRight) == (b.padTop, b.padLeft, b.padBottom, b.padRight)
    }

    /// Reads the attributes of a Conv or pool node for spatial extents `spatial` (1 or 2 axes)
    /// and a kernel of `kernel` (from the weights or kernel_shape).
    init(attributes a: Attributes, spatial: [Int], kernel: [Int], ceilMode: Bool = false, op: String) throws {
        let rank = spatial.count
        guard rank == 1 || rank == 2, kernel.count == rank else {
            throw NNError.invalidTensor("\(op) over \(rank) spatial axes is not supported (1 or 2)")
        }
        let strides = a.ints("strides") ?? [Int](repeating: 1, count: rank)
        let dilations = a.ints("dilations") ?? [Int](repeating: 1, count: rank)
        var pads = a.ints("pads") ?? [Int](repeating: 0, count: 2 * rank)
        guard strides.count == rank, dilations.count == rank, pads.count == 2 * rank,
              strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }), kernel.allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 }) else {
            throw NNError.invalidTensor("\(op): strides \(strides), dilations \(dilations), pads \(pads) do not fit kernel \(kernel)")
        }
        let autoPad = a.string("auto_pad", "NOTSET")
        var output = [Int](repeating: 0, count: rank)
        for i in 0..<rank {
            let extent = (kernel[i] - 1) * dilations[i] + 1
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                output[i] = (spatial[i] + strides[i] - 1) / strides[i]
                let total = max(0, (output[i] - 1) * strides[i] + extent - spatial[i])
                let small = total / 2
                (pads[i], pads[i + rank]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
            case "VALID":
                (pads[i], pads[i + rank]) = (0, 0)
                output[i] = (spatial[i] - extent) / strides[i] + 1
            case "NOTSET":
                let span = spatial[i] + pads[i] + pads[i + rank] - extent
                guard span >= 0 else {
                    throw NNError.invalidTensor("\(op): kernel extent \(extent) exceeds the padded input \(spatial[i] + pads[i] + pads[i + rank])")
                }
                output[i] = (ceilMode ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1
                // A ceil-mode window must start inside the input or its left padding.
                if ceilMode && (output[i] - 1) * strides[i] >= spatial[i] + pads[i] { output[i] -= 1 }
            default:
                throw NNError.invalidTensor("\(op): auto_pad \"\(autoPad)\" is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
            }
            guard output[i] > 0 else { throw NNError.invalidTensor("\(op): the output would be empty along axis \(i)") }
        }
        if rank == 1 {
            self.kernel = (1, kernel[0]); stride = (1, strides[0]); dilation = (1, dilations[0])
            (padTop, padBottom, padLeft, padRight) = (0, 0, pads[0], pads[1])
            input = (1, spatial[0]); self.output = (1, output[0])
        } else {
            self.kernel = (kernel[0], kernel[1]); stride = (strides[0], strides[1]); dilation = (dilations[0], dilations[1])
            (padTop, padLeft, padBottom, padRight) = (pads[0], pads[1], pads[2], pads[3])
            input = (spatial[0], spatial[1]); self.output = (output[0], output[1])
        }
    }

    /// The output's spatial shape in the input's rank.
    func outputShape(rank: Int) -> [Int] { rank == 1 ? [output.w] : [output.h, output.w] }

    var isPointwise: Bool {
        kernel == (1, 1) && stride == (1, 1) && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
}
