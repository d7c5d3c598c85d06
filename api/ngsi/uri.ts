// NGSI-LD entity ids are URIs (ETSI GS CIM 009, "Entity id"): an id that is not one is malformed
// data (400 BadRequestData), not an entity that happens to be missing (404 ResourceNotFound).
// RFC 3986's shape: a scheme, a colon, then no characters a URI may never hold (space, < > " { } | \ ^ `).
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]+$/

export const isUri = (s: string): boolean => URI.test(s)
