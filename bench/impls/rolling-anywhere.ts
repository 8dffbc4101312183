import { rolling } from './rolling.js'

/** The rolling sink with no delimiter to scan for: what the record scan costs is the difference. */
export const impl = rolling(null)
