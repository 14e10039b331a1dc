/**
 * String order by Unicode code point, which is the unsigned order of the
 * strings' UTF-8 bytes — the order LevelDB keeps store keys in (see the
 * state layer's key codec). JavaScript's `<` compares UTF-16 code units,
 * which differs for characters above U+D7FF. In-memory indexes that must
 * hand out entries in store order sort with this.
 */
export function compareCodePoints(left: string, right: string): number {
  if (left === right) return 0;
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const a = left.charCodeAt(index);
    const b = right.charCodeAt(index);
    if (a === b) continue;
    if (a >= 0xd800 && b >= 0xd800) return (left.codePointAt(index) as number) - (right.codePointAt(index) as number) || a - b;
    return a - b;
  }
  return left.length - right.length;
}
