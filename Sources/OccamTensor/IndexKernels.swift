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
func maxPoolingLoop<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ geometry: WindowGeometry, _ indices: UnsafeMutablePointer<Int>, planes: Range<Int>
) {
    let (ho, wo) = (geometry.outputHeight, geometry.outputWidth)
    let (h, w, s, p) = (geometry.height, geometry.width, geometry.stride, geometry.padding)
    let (kh, kw) = (geometry.kernelHeight, geometry.kernelWidth)
    var out = planes.lowerBound * ho * wo
    if p == 0 && kh == 2 && kw == 2 {
        // The common 2x2 window without padding: no clipping, comparisons unrolled (first maximum wins,
        // NaN wins over numbers, as in the general loop below).
        for plane in planes {
            let base = plane * h * w
            for oh in 0..<ho {
                let row = base + oh * s * w
                for ow in 0..<wo {
                    let a = row + ow * s
                    var best = a
                    var bestValue = x[a]
                    // Selects, not branches: which element of a window wins is data, and a mispredicted branch
                    // per comparison made this loop a tenth of a LeNet-5 training step.
                    @inline(__always) func consider(_ index: Int) {
                        let value = x[index]
                        let wins = (value > bestValue) != (value.isNaN && !bestValue.isNaN)
                        best = wins ? index : best
                        bestValue = wins ? value : bestValue
                    }
                    consider(a + 1)
                    consider(a + w)
                    consider(a + w + 1)
                    indices[out] = best
                    out += 1
                }
            }
        }
        return
    }
    for plane in planes {
        let base = plane * h * w
        for oh in 0..<ho {
            for ow in 0..<wo {
                var best = -1
                var bestValue: T = 0
                // The window clipped to the image: padding never wins.
                let top = oh * s - p, left = ow * s - p
                for ih in Swift.max(top, 0)..<Swift.min(top + kh, h) {
                    for iw in Swift.max(left, 0)..<Swift.min(left + kw, w) {
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

@inline(__always)
func imageToColumnsLoop<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ geometry: WindowGeometry, _ y: UnsafeMutablePointer<T>, images: Range<Int>
) {
    let stride = geometry.stride
    geometry.forEachInsideRun(images: images) { column, input, length in
        if stride == 1 {
            UnsafeMutableRawPointer(y + column).copyMemory(from: x + input, byteCount: length * MemoryLayout<T>.stride)
        } else {
            for k in 0..<length { y[column + k] = x[input + k * stride] }
        }
    }
}

@inline(__always)
func columnsToImageLoop<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ geometry: WindowGeometry, _ y: UnsafeMutablePointer<T>, images: Range<Int>
) {
    let stride = geometry.stride
    geometry.forEachInsideRun(images: images) { column, input, length in
        if stride == 1 {
            let source = x + column, target = y + input
            for k in 0..<length { target[k] += source[k] }
        } else {
            for k in 0..<length { y[input + k * stride] += x[column + k] }
        }
    }
}
