/**
 * Validation issues (zod's, or any with a path and a message) as one line of
 * text, for answers that carry a message rather than a list: "a.b: why; c: why".
 */
export function describeIssues(
  error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> },
  root = '(root)',
): string {
  return error.issues.map((issue) => `${issue.path.map(String).join('.') || root}: ${issue.message}`).join('; ');
}
