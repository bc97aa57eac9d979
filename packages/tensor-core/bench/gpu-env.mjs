/**
 * One Dawn GPU object for every WebGPU runner in the bench process. Tessera creates it (its
 * loader installs the WebGPU globals and paces Dawn's event polling for the process); the
 * peers, which look for navigator.gpu, get that same object, so all of them request the same
 * adapter from the same Dawn instance (each makes its own device).
 */
const DAWN_GPU = Symbol.for('tessera.tensor-core.dawnGpu')

export function shareDawnGpu() {
  const gpu = globalThis[DAWN_GPU]
  if (!gpu) throw new Error('Tessera has not created its Dawn GPU object yet: create a webgpu Device first')
  if (typeof globalThis.navigator === 'undefined') globalThis.navigator = {} // Node 20 has none
  Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true })
  copySharedWrites()
  return gpu
}

/**
 * onnxruntime-web's wasm memory is a SharedArrayBuffer (its threaded build, even on one
 * thread) and it uploads with queue.writeBuffer on views of that memory. Dawn's Node binding
 * rejects those views ("Invalid argument"; on some paths it segfaults), so such writes go
 * through a copy in a plain ArrayBuffer. Other writes are untouched.
 */
function copySharedWrites() {
  const proto = globalThis.GPUQueue?.prototype
  if (!proto || proto.writeBuffer.copiesShared) return
  const write = proto.writeBuffer
  const patched = function (buffer, offset, source, dataOffset = 0, size) {
    const data = source instanceof SharedArrayBuffer ? new Uint8Array(source) : source
    if (!(data.buffer instanceof SharedArrayBuffer)) return write.call(this, buffer, offset, source, dataOffset, size)
    const unit = data.BYTES_PER_ELEMENT ?? 1
    const count = size ?? data.byteLength / unit - dataOffset
    const copy = new Uint8Array(data.buffer, data.byteOffset + dataOffset * unit, count * unit).slice()
    return write.call(this, buffer, offset, copy)
  }
  patched.copiesShared = true
  proto.writeBuffer = patched
}
