export { Module, StateDictError, type StateDictSource } from './module.js'
export { Linear, LayerNorm, Conv2d, Embedding, Dropout, type LayerInitOptions } from './layers.js'
export * as init from './init.js'
export { HostRandom, manualSeed } from './init.js'
