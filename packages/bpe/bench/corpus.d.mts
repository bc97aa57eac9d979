export declare function generateText(size: number, seed?: number): string
export declare function sampleStrings(count: number, seed?: number): string[]
