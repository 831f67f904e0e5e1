/** The savings levers, keyed as the analytics contract's `savings` fields, with the label and colour dashboards show. */
export const LEVERS = [
  ["routing", "Routing", "#4f46e5"],
  ["cache", "Response cache", "#0f766e"],
  ["promptCache", "Prompt cache", "#0891b2"],
  ["batch", "Batch", "#d97706"],
  ["caps", "Caps", "#be123c"],
  ["compression", "Compression", "#65a30d"],
] as const;
