/** A float field value of line protocol: integers get `.0`, so a field's type never changes. */
export const float = (v: number): string => (Number.isInteger(v) && Math.abs(v) < 1e15 ? `${v}.0` : String(v));
