/**
 * Captions for emoji images from emojibase-data's English data: one record per hexcode
 * (base emoji and each skin-tone variant), keyed with FE0F removed, which is how image file
 * names and emojibase hexcodes line up.
 */
export interface EmojiCaption {
  /** Hexcode as emojibase writes it (uppercase, dash-separated), FE0F removed. */
  hexcode: string
  /** Hexcode of the base emoji: the same for every skin-tone variant. */
  baseHexcode: string
  label: string
  tags: readonly string[]
  group: string
  subgroup: string
  skinTone: boolean
}

interface EmojibaseEntry {
  label: string
  hexcode: string
  tags?: string[]
  group?: number
  subgroup?: number
  skins?: EmojibaseEntry[]
}

interface EmojibaseGroups {
  groups: Record<string, string>
  subgroups: Record<string, string>
}

/** Hexcode normal form for joining: uppercase, FE0F (variation selector 16) removed. */
export function normaliseHexcode(hexcode: string): string {
  return hexcode
    .toUpperCase()
    .split('-')
    .filter((part) => part !== 'FE0F')
    .join('-')
}

export function indexEmojiCaptions(entries: readonly EmojibaseEntry[], groups: EmojibaseGroups): Map<string, EmojiCaption> {
  const out = new Map<string, EmojiCaption>()
  const groupName = (g: number | undefined) => (g === undefined ? 'none' : (groups.groups[String(g)] ?? 'none'))
  const subgroupName = (g: number | undefined) => (g === undefined ? 'none' : (groups.subgroups[String(g)] ?? 'none'))
  for (const entry of entries) {
    const baseHexcode = normaliseHexcode(entry.hexcode)
    const base = {
      baseHexcode,
      tags: entry.tags ?? [],
      group: groupName(entry.group),
      subgroup: subgroupName(entry.subgroup),
    }
    out.set(baseHexcode, { ...base, hexcode: baseHexcode, label: entry.label, skinTone: false })
    for (const skin of entry.skins ?? []) {
      const hexcode = normaliseHexcode(skin.hexcode)
      out.set(hexcode, { ...base, hexcode, label: skin.label, skinTone: true })
    }
  }
  return out
}
