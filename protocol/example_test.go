package protocol_test

import (
	"fmt"

	"github.com/verishake/verishake/protocol"
)

// A complete hardened handshake driven by hand: the caller carries each
// Output.Send to the other side and says what time it is.
func Example() {
	h := protocol.Hardened().MustCompile()
	tokens := &protocol.SymbolicTokens{} // crypto/rand in production: protocol.CryptoTokens{}
	client := protocol.NewClient(42)
	server := protocol.NewServer()

	var now protocol.Time
	msg := client.Start(h, now, tokens).Send
	for msg.Kind != 0 {
		fmt.Println(msg)
		var out protocol.Output
		if msg.Kind.Upstream() {
			out = server.Handle(h, now, msg, tokens)
		} else {
			out = client.Handle(h, now, msg)
		}
		for _, c := range out.ClaimList() {
			fmt.Println("  claim", c)
		}
		msg = out.Send
	}
	fmt.Println("client", client.State)
	// Output:
	// Hello{RegID:42 Tc:#1}
	// Validation{RegID:42 Tc:#1 Ts:#2}
	//   claim Running(client, 42, Tc=#1, Ts=#2)
	// Confirm1{RegID:42 Ts:#2}
	//   claim Running(server, 42, Tc=#1, Ts=#2)
	//   claim Commit(server, 42, Tc=#1, Ts=#2)
	// Confirm2{RegID:42 Ts:#2}
	//   claim Commit(client, 42, Tc=#1, Ts=#2)
	// client Verified
}
