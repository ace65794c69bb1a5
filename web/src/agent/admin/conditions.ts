/**
 * The condition builder's common cases as the condition language (CEL) writes them, and back:
 * "priority is one of …", "team is one of …" and so on, joined by `&&`. An expression the
 * builder cannot read (anything else) is left to the raw field; the API checks it either way.
 */

/** The ticket fields the builder offers, as the condition language names them. */
export const BUILDER_FIELDS = ["priority", "team_id", "type", "company_id"] as const;
export type BuilderField = (typeof BUILDER_FIELDS)[number];
export type BuilderValues = Record<BuilderField, string[]>;

export function emptyBuilder(): BuilderValues {
  return { priority: [], team_id: [], type: [], company_id: [] };
}

/** CEL string literals read JSON's escapes. */
const quote = (value: string) => JSON.stringify(value);

/** The expression of the builder's choices ("" when none is chosen: every ticket). */
export function buildCondition(values: BuilderValues): string {
  return BUILDER_FIELDS.filter((field) => values[field].length > 0)
    .map((field) => {
      const chosen = values[field];
      const [only] = chosen;
      return chosen.length === 1 && only !== undefined
        ? `${field} == ${quote(only)}`
        : `${field} in [${chosen.map(quote).join(", ")}]`;
    })
    .join(" && ");
}

const CLAUSE = /^\s*([a-z_]+)\s*(==|in)\s*(.+?)\s*$/;

function literals(text: string): string[] | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "string") return [parsed];
    if (Array.isArray(parsed) && parsed.every((item) => typeof item === "string")) {
      return parsed;
    }
  } catch {
    return null;
  }
  return null;
}

/** The builder's choices that give ``expression``, or null when the builder cannot say it. */
export function readCondition(expression: string): BuilderValues | null {
  const values = emptyBuilder();
  if (!expression.trim()) return values;
  for (const clause of expression.split("&&")) {
    const match = CLAUSE.exec(clause);
    if (!match) return null;
    const [, field = "", operator, rest = ""] = match;
    if (!(BUILDER_FIELDS as readonly string[]).includes(field)) return null;
    const found = literals(rest);
    if (!found || (operator === "==") !== rest.trim().startsWith('"')) return null;
    const key = field as BuilderField;
    if (values[key].length > 0) return null;
    values[key] = found;
  }
  return values;
}
