// Typed events for Writable subclasses: `class X extends TypedWritable<XEvents>` gives every listener method and
// `emit` the argument types of each event, Writable's own included, at no cost at run time (it is Writable).
import { type Readable, Writable, type WritableOptions } from 'node:stream'

/** The events every Writable emits, and the arguments their listeners get. */
export interface WritableEvents {
  /** The stream and its resources are closed: the last event, after `'finish'` or `'error'`. */
  close: []
  /** `write()` returned false and the stream can take more now. */
  drain: []
  /** The stream failed; `'close'` follows. */
  error: [err: Error]
  /** Everything written is stored (for a sink: the object exists, `result` is set). */
  finish: []
  /** A Readable was piped into the stream. */
  pipe: [src: Readable]
  /** A Readable stopped piping into the stream. */
  unpipe: [src: Readable]
}

/** An events map: each event's name and the arguments its listeners get. */
export type EventMap<Events> = { [E in keyof Events]: unknown[] }

/**
 * An event name outside `Events`: such events stay possible, untyped, as on any EventEmitter, but a known name never
 * falls through to this looser overload (a listener of the wrong type for `'progress'` does not compile).
 */
type OtherEvent<Events, E> = E extends keyof Events ? never : E

type Listener<Args extends unknown[]> = (...args: Args) => void

/** A Writable whose events are those of `Events`. Own members override Writable's, so its looser overloads are gone. */
export interface TypedWritable<Events extends EventMap<Events>> extends Writable {
  /** Adds `listener` for `event`; its arguments are typed by the events map. */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  /** Adds `listener` for an event outside the events map, untyped, as on any EventEmitter. */
  on<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  /** Adds `listener` for the next `event` only; its arguments are typed by the events map. */
  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  /** Adds `listener` for the next time of an event outside the events map, untyped. */
  once<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  /** Same as `on()`: adds `listener` for `event`, typed by the events map. */
  addListener<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  /** Same as `on()`, for an event outside the events map, untyped. */
  addListener<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  /** Adds `listener` for `event` before the listeners already there; typed by the events map. */
  prependListener<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  /** Adds `listener` before the others, for an event outside the events map, untyped. */
  prependListener<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  /** Adds `listener` for the next `event` only, before the listeners already there; typed. */
  prependOnceListener<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  /** Adds a once-listener before the others, for an event outside the events map, untyped. */
  prependOnceListener<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  /** Removes `listener` from `event`. */
  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  /** Removes `listener` from an event outside the events map. */
  off<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  /** Same as `off()`: removes `listener` from `event`. */
  removeListener<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  /** Same as `off()`, for an event outside the events map. */
  removeListener<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  /** Calls the listeners of `event` with `args`, typed by the events map; true if it had listeners. */
  emit<E extends keyof Events>(event: E, ...args: Events[E]): boolean
  /** Calls the listeners of an event outside the events map; true if it had listeners. */
  emit<E extends string | symbol>(event: OtherEvent<Events, E>, ...args: any[]): boolean
}

/**
 * Node's `Writable`, typed for an events map: `class S3Sink extends TypedWritable<S3SinkEvents>`. A declaration
 * merged into the class would not do: TypeScript refuses an interface that extends both Writable and another type
 * declaring `on`, and overloads added beside Writable's keep its catch-all `(event: string, listener: any)`.
 */
export const TypedWritable = Writable as unknown as new <Events extends EventMap<Events>>(
  options?: WritableOptions,
) => TypedWritable<Events>
