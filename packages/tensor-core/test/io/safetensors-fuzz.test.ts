import { describe, expect, it } from 'vitest'
import { parseSafetensors, SafetensorsError, serializeSafetensors, type HostTensor } from '../../src/io/index.js'
import { seededRandom } from './helpers.js'

const valid = serializeSafetensors(
  {
    'w': { dtype: 'f32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    'h': { dtype: 'f32', shape: [3], data: new Float32Array([0.5, -1, 7]) },
    'ids': { dtype: 'i32', shape: [2], data: new Int32Array([3, -9]) },
    'u': { dtype: 'u32', shape: [], data: new Uint32Array([5]) },
  } satisfies Record<string, HostTensor>,
  { note: 'fuzz' },
  // Exercise the converting decoders too: F16 and I64 in the stored file.
  { storeAs: (name) => (name === 'h' ? 'F16' : name === 'ids' ? 'I64' : undefined) },
)
const headerEnd = 8 + Number(new DataView(valid.buffer).getBigUint64(0, true))
const HEADER_CHARS = '{}[]":,0123456789 -.eFIU_'

type Mutation = (bytes: Uint8Array, random: () => number) => Uint8Array

const pick = (random: () => number, n: number) => Math.floor(random() * n)
const mutations: Mutation[] = [
  // Random byte anywhere.
  (bytes, random) => {
    bytes[pick(random, bytes.length)] = pick(random, 256)
    return bytes
  },
  // JSON-ish character inside the header, where a change is most likely to matter.
  (bytes, random) => {
    bytes[8 + pick(random, headerEnd - 8)] = HEADER_CHARS.charCodeAt(pick(random, HEADER_CHARS.length))
    return bytes
  },
  // Digit swap inside the header: perturbs shapes and offsets while keeping JSON valid.
  (bytes, random) => {
    const digits = [...bytes.subarray(0, headerEnd).keys()].filter((i) => i >= 8 && bytes[i]! >= 0x30 && bytes[i]! <= 0x39)
    bytes[digits[pick(random, digits.length)]!] = 0x30 + pick(random, 10)
    return bytes
  },
  // Truncation.
  (bytes, random) => bytes.slice(0, pick(random, bytes.length)),
  // Corrupt header length prefix.
  (bytes, random) => {
    bytes[pick(random, 8)] = pick(random, 256)
    return bytes
  },
  // High word of an I64 element (int_overflow territory).
  (bytes, random) => {
    bytes[bytes.length - 1 - pick(random, 40)] = pick(random, 256)
    return bytes
  },
]

describe('safetensors fuzzing', () => {
  it('every corrupted file either parses fully or throws SafetensorsError', () => {
    const random = seededRandom(20240601)
    const outcomes = { parsed: 0, rejected: new Map<string, number>() }
    for (let round = 0; round < 600; round++) {
      let bytes: Uint8Array = valid.slice()
      const edits = 1 + pick(random, 3)
      for (let e = 0; e < edits; e++) bytes = mutations[pick(random, mutations.length)]!(bytes, random)
      try {
        const file = parseSafetensors(bytes)
        for (const name of file.names()) {
          const tensor = file.get(name)
          const size = tensor.shape.reduce((a, b) => a * b, 1)
          expect(tensor.data.length, `round ${round}`).toBe(size)
        }
        outcomes.parsed++
      } catch (error) {
        if (!(error instanceof SafetensorsError)) {
          expect.fail(`round ${round}: ${String(error)} (${Buffer.from(bytes.subarray(0, headerEnd)).toString('latin1')})`)
        }
        outcomes.rejected.set(error.code, (outcomes.rejected.get(error.code) ?? 0) + 1)
      }
    }
    // The mutations must actually reach both outcomes and a variety of checks.
    expect(outcomes.parsed).toBeGreaterThan(20)
    expect(outcomes.rejected.size).toBeGreaterThanOrEqual(6)
  })
})
