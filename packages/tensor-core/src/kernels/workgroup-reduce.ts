/**
 * WGSL for reducing one f32 per invocation across a workgroup (tree in workgroup memory):
 * `wg_sum(v, lidx)` and `wg_max(v, lidx)` (a NaN anywhere gives NaN). Every invocation must
 * call them (they contain barriers) and every invocation gets the result.
 */
export function workgroupReduceWgsl(workgroupSize: number): string {
  const fn = (name: string, combine: string) => `fn ${name}(v: f32, lidx: u32) -> f32 {
  red[lidx] = v;
  for (var s = ${workgroupSize / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lidx < s) { red[lidx] = ${combine}; }
  }
  workgroupBarrier();
  let r = red[0];
  workgroupBarrier();
  return r;
}`
  return [`var<workgroup> red: array<f32, ${workgroupSize}>;`, fn('wg_sum', 'red[lidx] + red[lidx + s]'), fn('wg_max', 'nan_max(red[lidx], red[lidx + s])')].join('\n')
}
