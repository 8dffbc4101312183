// What Ctrl-C (or SIGTERM) does: a command with something to stop says what on the first signal, and ends by itself
// saying how; until then, and on a later signal, the process ends at once, saying what it leaves behind.

/** Exit status after Ctrl-C (or SIGTERM), as shells report SIGINT. */
export const INTERRUPTED = 130

const interrupt: {
  stop: (() => void) | undefined
  /** What a second signal does, when the command can still clean up (it then ends by itself, saying how). */
  abort: (() => void) | undefined
  leftBehind: () => string
  signals: number
  /** A first signal came while the command was setting up what it stops: `onInterrupt` delivers it. */
  held: 'no' | 'holding' | 'signalled'
} = {
  stop: undefined,
  abort: undefined,
  leftBehind: () => 'nothing was sent',
  signals: 0,
  held: 'no',
}

/** Whether a signal came: the command then ends by itself, and nothing (a read blocked on a pipe) may hold it. */
export function interrupted(): boolean {
  return interrupt.signals > 0
}

/** Listens for Ctrl-C and SIGTERM. */
export function listenForSignals(): void {
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

function onSignal(): void {
  interrupt.signals++
  if (interrupt.signals === 1 && interrupt.held === 'holding') {
    interrupt.held = 'signalled'
    // A set-up that does not end soon (an input that blocks: a named pipe with no writer) is not waited for.
    setTimeout(() => {
      if (interrupt.held !== 'signalled') return
      interrupt.held = 'no'
      endAtOnce()
    }, HOLD_MS)
    return
  }
  if (interrupt.signals === 1 && interrupt.stop) {
    interrupt.stop()
    return
  }
  if (interrupt.signals === 2 && interrupt.abort) {
    interrupt.abort()
    return
  }
  endAtOnce()
}

function endAtOnce(): never {
  const again = interrupt.signals > 1 ? ' again: stopped at once' : ''
  process.stderr.write(`\ns3-sink: interrupted${again}; ${interrupt.leftBehind()}\n`)
  process.exit(INTERRUPTED)
}

/** How long a first signal waits for the set-up under way to say what it stops (`holdSignals`). */
const HOLD_MS = 2000

/**
 * From here until `onInterrupt`, a first signal waits for what it will stop instead of ending the process: for a
 * command that is setting up (opening its input, making its upload) what a signal stops. A second signal, or a
 * set-up that takes more than 2 s after the first, ends it at once.
 */
export function holdSignals(): void {
  interrupt.held = 'holding'
}

/**
 * Sets what the first signal stops (`stop`), what a second one does (`abort`), and what a signal that ends the
 * process at once leaves behind; returns the way back to ending at once.
 */
export function onInterrupt(stop: () => void, leftBehind: () => string, abort?: () => void): () => void {
  interrupt.stop = stop
  interrupt.abort = abort
  interrupt.leftBehind = leftBehind
  const held = interrupt.held === 'signalled'
  interrupt.held = 'no'
  // After the caller has started what `stop` stops: it returns first.
  if (held && interrupt.signals === 1) queueMicrotask(stop)
  return () => {
    interrupt.stop = undefined
    interrupt.abort = undefined
    interrupt.leftBehind = () => 'its work was done'
  }
}
