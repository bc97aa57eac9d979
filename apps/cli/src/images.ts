import type { GeneratedImages } from '@tessera/dalle'
import { encodePng, type RgbaImage } from '@tessera/datasets'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Nearest-neighbour enlargement (the emoji models make 32×32 images). */
export function enlarge(image: RgbaImage, scale: number): RgbaImage {
  if (scale === 1) return image
  const width = image.width * scale
  const data = new Uint8Array(width * image.height * scale * 4)
  for (let y = 0; y < image.height * scale; y++) {
    for (let x = 0; x < width; x++) {
      const src = (Math.floor(y / scale) * image.width + Math.floor(x / scale)) * 4
      data.set(image.data.subarray(src, src + 4), (y * width + x) * 4)
    }
  }
  return { width, height: image.height * scale, data }
}

/** The images side by side in rows of ⌈√n⌉, 2-pixel white gutters. */
export function gridImage(images: GeneratedImages, scale: number): RgbaImage {
  const cols = Math.ceil(Math.sqrt(images.count))
  const rows = Math.ceil(images.count / cols)
  const cell = images.size * scale + 2
  const width = cols * cell + 2
  const height = rows * cell + 2
  const data = new Uint8Array(width * height * 4).fill(255)
  for (let i = 0; i < images.count; i++) {
    const img = enlarge(images.rgba(i), scale)
    const [x0, y0] = [2 + (i % cols) * cell, 2 + Math.floor(i / cols) * cell]
    for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width * 4, (y + 1) * img.width * 4), ((y0 + y) * width + x0) * 4)
  }
  return { width, height, data }
}

/** A file-name stem from a prompt: "A red heart!" → "a-red-heart". */
export function slug(text: string, fallback: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48).replace(/-$/, '') || fallback
}

/** Writes each image as STEM-i.png and all of them as STEM-grid.png; returns the paths. */
export async function writeImages(dir: string, stem: string, images: GeneratedImages, scale: number): Promise<{ files: string[]; grid: string }> {
  await mkdir(dir, { recursive: true })
  const files: string[] = []
  for (let i = 0; i < images.count; i++) {
    const file = join(dir, `${stem}-${i + 1}.png`)
    await writeFile(file, await encodePng(enlarge(images.rgba(i), scale)))
    files.push(file)
  }
  const grid = join(dir, `${stem}-grid.png`)
  await writeFile(grid, await encodePng(gridImage(images, scale)))
  return { files, grid }
}
