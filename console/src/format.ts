// How times, durations and values read on the page.

export function when(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

export function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 120) return `${value.toFixed(1)} s`;
  return `${Math.floor(value / 60)} min ${Math.round(value % 60)} s`;
}

export function between(start: string | null, end: string | null): number | null {
  if (!start) return null;
  const to = end ? Date.parse(end) : Date.now();
  return (to - Date.parse(start)) / 1000;
}

export function json(value: unknown): string {
  return value === undefined ? "—" : JSON.stringify(value, null, 2);
}

export function problem(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
