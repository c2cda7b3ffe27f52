/** go-humanize's Bytes(): SI units (base 1000), one decimal below 10. */
const SI_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

export function humanBytes(size: number): string {
  if (size < 10) return `${size} B`;
  const exp = Math.floor(Math.log(size) / Math.log(1000));
  const unit = SI_UNITS[exp] as string;
  const value = Math.floor((size / 1000 ** exp) * 10 + 0.5) / 10;
  return value < 10 ? `${value.toFixed(1)} ${unit}` : `${goRoundHalfEven(value)} ${unit}`;
}

/** Go's %.0f rounds exact halves to even; JS toFixed rounds them up. */
function goRoundHalfEven(v: number): string {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff === 0.5) return String(floor % 2 === 0 ? floor : floor + 1);
  return v.toFixed(0);
}
