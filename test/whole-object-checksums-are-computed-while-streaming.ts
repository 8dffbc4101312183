import t from 'tap'
import { wholeObjectChecksumCases } from './fixtures/whole-object-cases.js'

await wholeObjectChecksumCases(t)
