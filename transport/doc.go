// Package transport runs the handshake machines of package protocol over real
// sockets: an HTTP server side, a push path shaped like Firebase Cloud
// Messaging's HTTP v1 API, a local push relay that speaks that shape on
// loopback, a device library, durable session stores, and capture of the
// steps taken in package trace's schema, which the simulator writes too, so
// that a real run can be checked against the model.
//
// The machines stay sans-IO: this package owns every clock, socket, lock and
// goroutine, and hands the machines the time (wall-clock Unix nanoseconds,
// so that deadlines stored on disk mean the same after a restart) and a token
// source.
//
// # Wire format
//
// Upstream (device → server) requests carry one frame of protocol's versioned
// binary codec (EncodeMessage/DecodeMessage) as an application/octet-stream
// body: POST /v1/hello and POST /v1/confirm1. Push messages carry the same
// frame, base64url-encoded, in the "frame" key of the FCM data map, because
// FCM data values must be strings. One codec for both directions means one
// strict decoder (version byte, known kind, no zero token, CRC-32C, no
// trailing bytes) guards every input, and its errors name the field and
// offset that made a request fail.
//
// # Server side
//
// Server keeps one protocol.Slot per RegID in a Store (MemoryStore or
// BoltStore), drives it under a per-RegID lock, counts half-open sessions
// exactly across concurrent requests, stores each step before pushing its
// answer, and runs each slot's deadline on a real-clock timer, expiring due
// sessions in batches (one durable write per batch on a BatchSaver store)
// and, at the half-open cap, before a Hello is turned away. Failures are
// logged with log/slog and counted in Stats; clients get fixed reasons.
// HTTPLimits holds the timeouts and the connection limit an http.Server
// serving it (or a Relay) should have.
//
// # Push path and devices
//
// A Pusher delivers server messages to a RegID. FCMPusher posts the FCM HTTP
// v1 shape to any base URL with bearer auth; Relay serves that endpoint
// locally, registers devices and delivers to them by long-poll with a
// switchable fault model. Device is the client side: it registers with the
// relay, runs protocol.Client, retransmits by the profile's rules and hands
// verified commands to a callback.
package transport
