import { CONTRACT_VERSIONS, type RerankerPlugin } from './contracts.js'

/** Scores every image 0, so the candidates keep the order they were sampled in. */
export const NONE_RERANKER: RerankerPlugin = {
  kind: 'reranker',
  name: 'none',
  contract: CONTRACT_VERSIONS.reranker,
  description: 'no reranking: every image scores 0 and the first ones are kept',
  create: () => ({ score: async (_prompt, images) => new Float32Array(images.shape[0] ?? 0) }),
}
