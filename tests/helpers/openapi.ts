// Reading a 200 answer's schema out of the OpenAPI document, whether the operation holds it or
// refers to a component.
export interface JsonSchema { $ref?: string; properties?: Record<string, unknown> }
export interface OpenApiDoc {
  paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }> }>>
  components?: { schemas?: Record<string, JsonSchema> }
}

export function answerSchema(doc: OpenApiDoc, path: string, method = 'get'): JsonSchema {
  const schema = doc.paths[path]?.[method]?.responses?.['200']?.content?.['application/json']?.schema
  if (!schema) throw new Error(`${method.toUpperCase()} ${path} has no 200 JSON answer in the OpenAPI document`)
  if (!schema.$ref) return schema
  const name = schema.$ref.replace('#/components/schemas/', '')
  const target = doc.components?.schemas?.[name]
  if (!target) throw new Error(`${schema.$ref} is not in the document's components`)
  return target
}
