/// Loops that move elements by an index map; instantiated per scalar type in TensorScalar.swift.

@inline(__always)
func gatherLoop<T: TensorScalar>(_ x: UnsafePointer<T>, _ indices: UnsafePointer<Int>, _ y: UnsafeMutablePointer<T>, count: Int) {
    for i in 0..<count {
        let index = indices[i]
        y[i] = index >= 0 ? x[index] : 0
    }
}

@inline(__always)
func scatterAddLoop<T: TensorScalar>(_ x: UnsafePointer<T>, _ indices: UnsafePointer<Int>, _ y: UnsafeMutablePointer<T>, count: Int) {
    for i in 0..<count {
        let index = indices[i]
        if index >= 0 { y[index] += x[i] }
    }
}

@inline(__always)
func maxPoolingLoop<T: TensorScalar>(_ x: UnsafePointer<T>, _ geometry: WindowGeometry, _ indices: UnsafeMutablePointer<Int>) {
    let (ho, wo) = (geometry.outputHeight, geometry.outputWidth)
    let (h, w, s, p) = (geometry.height, geometry.width, geometry.stride, geometry.padding)
    var out = 0
    for plane in 0..<(geometry.batch * geometry.channels) {
        let base = plane * h * w
        for oh in 0..<ho {
            for ow in 0..<wo {
                var best = -1
                var bestValue: T = 0
                for i in 0..<geometry.kernelHeight {
                    let ih = oh * s - p + i
                    if ih < 0 || ih >= h { continue }
                    for j in 0..<geometry.kernelWidth {
                        let iw = ow * s - p + j
                        if iw < 0 || iw >= w { continue }
                        let index = base + ih * w + iw
                        let value = x[index]
                        if best < 0 || value > bestValue || (value.isNaN && !bestValue.isNaN) {
                            best = index
                            bestValue = value
                        }
                    }
                }
                indices[out] = best
                out += 1
            }
        }
    }
}
