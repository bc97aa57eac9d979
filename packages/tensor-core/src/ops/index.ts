export { zeros, ones, full, zerosLike, onesLike, arange } from './creation.js'
export {
  neg, exp, log, sqrt, rsqrt, abs, square, reciprocal, sin, cos, relu, sigmoid, tanh, gelu, quickGelu,
  add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, where, clamp, cast, copy,
} from './elementwise.js'
export { type Operand } from './elementwise-core.js'
export { broadcastTo, sumToShape } from './broadcast.js'
export { sum, mean, max, min, argmax, argmin, logsumexp, type Axes, type ReduceOptions } from './reduce.js'
export { reshape, unsqueeze, squeeze, permute, transpose, slice, concat, pad, type SliceRange } from './layout.js'
export { matmul, linear, type MatmulOptions } from './matmul.js'
export { conv2d, maxPool2d, upsampleNearest2d, type Conv2dOptions, type MaxPool2dOptions } from './conv.js'
export { autotuneMatmul, autotuneSeenMatmuls, clearMatmulTuning, matmulShapeClass, type AutotuneOptions, type MatmulTuning } from '../autotune.js'
export { softmax, logSoftmax, layerNorm, type SoftmaxOptions, type LayerNormOptions } from './normalize.js'
export { attention, type AttentionOptions } from './attention.js'
export { embedding, gather, oneHot } from './embedding.js'
export { randomUniform, randomNormal, randomGumbel, dropout, type RandomStreamOptions } from './random.js'
export { topK, filterTopK, filterTopP, categoricalSample } from './sampling.js'
export { crossEntropy, gumbelSoftmax, mseLoss, straightThrough, type CrossEntropyOptions, type GumbelSoftmaxOptions, type Reduction } from './loss.js'
