/** BuildKit's getDocComment: the comment above a definition that starts with its name. */
export function docComment(comments: readonly string[], name: string): string | undefined {
  if (name === '') return undefined;
  for (const line of comments) if (line.startsWith(name + ' ')) return line.slice(name.length + 1);
  return undefined;
}
