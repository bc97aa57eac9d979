import { DatasetError } from './errors.js'
import { fnv1a } from './random.js'

export type DatasetSplit = 'train' | 'heldout' | 'all'

/**
 * Whether the item with this key is held out, from a hash of the key: stable across runs,
 * machines and package versions, whatever else is in the dataset.
 */
export function isHeldOut(key: string, heldOutFraction: number): boolean {
  return fnv1a(key) / 4294967296 < heldOutFraction
}

/** Whether an item with this key belongs to `split`. */
export function inSplit(key: string, split: DatasetSplit, heldOutFraction: number): boolean {
  return split === 'all' || isHeldOut(key, heldOutFraction) === (split === 'heldout')
}

/** DatasetError unless the split options make sense. */
export function checkSplit(split: DatasetSplit, heldOutFraction: number): void {
  if (!(heldOutFraction >= 0 && heldOutFraction <= 1)) throw new DatasetError(`heldOutFraction must be in [0, 1], got ${heldOutFraction}`)
  if (!['train', 'heldout', 'all'].includes(split)) throw new DatasetError(`split must be 'train', 'heldout' or 'all', got '${split}'`)
}
