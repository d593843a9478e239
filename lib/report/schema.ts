/** Version of the JSON shape of every report object. Bumped on any incompatible change. */
export const REPORT_SCHEMA_VERSION = 1 as const;
