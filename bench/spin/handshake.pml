/*
 * handshake.pml: the hardened token handshake (docs/protocol.md) at the bounds
 * `verishake check` explores by default, written to take the same steps as
 * sim.World under the exhaustive explorer (sim/explore):
 *
 *   one honest client (RegID 1), the adversary's insider RegID 2, one
 *   handshake, one loss, one duplicate, one injection, retransmissions
 *   capped at 1, one command per verified session; hardened's knobs
 *   (60 s lifetime, back-off from 1 s doubling to 8 s, idempotent Hello and
 *   Confirm1, the verified session kept while re-keying, numbered
 *   commands).
 *
 * One process; each world step is one transition (an atomic choice of the
 * step and one shared d_step that takes it), so that every stored state is
 * a world between two steps, as in the explorer:
 *   deliver / drop / dup of each in-flight message, the client's timer, each
 *   server slot's timer, start, issue, and each adversary injection,
 *   delivered in the same step as in the explorer.
 *
 * Canonical forms, as the explorer's fingerprint has them:
 *   - the network is a multiset: the in-flight messages are kept sorted;
 *   - time is relative to now: a timer step moves every deadline back by
 *     the time it advances (NEVER and CLR are not moved);
 *   - the adversary's knowledge (tokens, captured envelopes) is kept sorted
 *     and is dropped once its injection budget is spent;
 *   - the claim ledger (unmatched Running and Issued claims) is sorted.
 * Tokens are small integers: 1..13 fresh (one counter, like
 * protocol.SymbolicTokens), STATIC_TS the static-server-token variant's,
 * OWN the adversary's own.
 *
 * Properties: AUTH-C, AUTH-S (injective agreement: a Commit consumes one
 * unmatched Running of the peer with the same RegID, Tc, Ts), CMD (an
 * Executed consumes one Issued), LIVE as deadlock freedom (a client waiting
 * with nothing in flight and no timer set), BOUNDED (half-open sessions
 * under the cap). AGREE is not modelled.
 *
 * Variants (the catalog's, protocol/variants.go), one -D macro each:
 *   -DNO_CLIENT_TOKEN_CHECK  -DNO_SERVER_TOKEN_CHECK  -DNO_COMMAND_SEQ
 *   -DSTATIC_SERVER_TOKEN    -DUNBOUND_REGID
 *
 * -DSCRATCH_VISIBLE (for pan's multi-core build, cc -DNCORE=N, which
 * refuses `hidden` variables): the scratch variables are ordinary globals,
 * zeroed at the end of the one d_step, so that they are 0 in every stored
 * state and the states stored are the same (965,471 at these bounds).
 */

#ifdef SCRATCH_VISIBLE
#define SCRATCH
#else
#define SCRATCH hidden
#endif

#ifndef DROPS
#define DROPS 1
#endif
#ifndef DUPS
#define DUPS 1
#endif
#ifndef INJECTS
#define INJECTS 1
#endif
#ifndef RETRIES
#define RETRIES 1
#endif
#ifndef COMMANDS
#define COMMANDS 1
#endif
#define SESSIONS  1
#define LIFETIME  60    /* seconds */
#define MAXWAIT   8     /* back-off cap, seconds; the first wait is 1 s */
#define CAP       1024  /* half-open session cap */

#define MAXF 8    /* in-flight messages */
#define MAXC 10   /* captured envelopes */
#define MAXK 4    /* tokens the adversary knows */
#define MAXL 8    /* unmatched claims */

/* message kinds (protocol.Kind) */
#define HELLO 1
#define VALID 2
#define CONF1 3
#define CONF2 4
#define CMD   5

#define STATIC_TS 14
#define OWN       15
#define FORGED    3     /* seq code of adversary.ForgedSeq (2^31) */

/* a message packed in 15 bits: kind, RegID, Tc, Ts, seq */
#define MSG(k,r,tc,ts,sq) (((k)<<12)|((r)<<10)|((tc)<<6)|((ts)<<2)|(sq))
#define M_KIND(x) ((x)>>12)
#define M_REG(x)  (((x)>>10)&3)
#define M_TC(x)   (((x)>>6)&15)
#define M_TS(x)   (((x)>>2)&15)
#define M_SEQ(x)  ((x)&3)

/* a ledger entry packed the same way: kind, role, Tc, Ts, seq */
#define RUN    1
#define ISS    2
#define ROLE_C 1
#define ROLE_S 2

/* client states (protocol.ClientState) */
#define IDLE  0
#define AV    1   /* AwaitValidation */
#define AC    2   /* AwaitConfirm2 */
#define CVER  3
#define CFAIL 4
/* server slot states (protocol.SessionState) */
#define NONE  0
#define AC1   1   /* AwaitConfirm1 */
#define SVER  2
#define REKEY 3

#define NEVER 32000   /* no deadline */
#define CLR   31000   /* the expiry of a cleared session */

#define MIN(a,b) ((a) < (b) -> (a) : (b))
#define WAIT(n)  ((n) <= 1 -> 1 : ((n) == 2 -> 2 : ((n) == 3 -> 4 : MAXWAIT)))
#define AWAITING (cst == AV || cst == AC)
#define HALFOPEN(k) (sl[k].st == AC1 || sl[k].st == REKEY)
#define VERIFIED(k) (sl[k].st == SVER || sl[k].st == REKEY)
#define SDL(k) (HALFOPEN(k) -> (VERIFIED(k) -> MIN(sl[k].pexp, sl[k].cexp) : sl[k].pexp) : (VERIFIED(k) -> sl[k].cexp : NEVER))

/* ---- the world ---- */

/* the client and its book */
byte cst, ctc, cts, tries, clast;
short cdl = NEVER, cexp = NEVER;
bit leaked, srvok;
byte cmdleft, nstart;

/* the server: one slot per RegID (1 honest, 2 insider); NONE = absent, all zero */
typedef Slot {
	byte st;
	byte ptc, pts; short pexp;   /* pending session */
	byte ctc, cts; short cexp;   /* verified session */
	byte last;
	byte seen[4];
};
Slot sl[2];

/* the network: a sorted multiset */
byte nf;
short fl[MAXF];

/* step counters the budgets read; the token counter */
byte started, ndrop, ndup, ninj, ntok;

/* the adversary: sorted known tokens and captured envelopes */
bit spent;
/* Known tokens are stored XORed with OWN, so that the initial all-zero
   array holds OWN first and unused entries stay 0. */
#define KT(k) (ktok[k] ^ OWN)
byte nk = 1;
byte ktok[MAXK];
byte ncap;
short cap[MAXC];

/* the claim ledger, sorted */
byte nl;
short led[MAXL];

/* scratch: written before read inside each d_step, not part of the state
 * (hidden, or with SCRATCH_VISIBLE zeroed by clear_scratch) */
SCRATCH short h_m, h_v, h_e, h_dt, h_arg, h_out;
SCRATCH byte h_la, h_lb;
SCRATCH byte h_mk, h_mr, h_mtc, h_mts, h_msq, h_s, h_nt, h_to, h_lt, h_fx, h_ci, h_ki, h_li, h_tmp;
SCRATCH byte h_ok, h_tcok, auth_c, auth_s, cmd_ok, live, bounded;

/* ---- multisets and sets ---- */

inline fl_insert() {   /* h_v into the network */
	assert(nf < MAXF);
	h_fx = nf;
	do
	:: h_fx > 0 && fl[h_fx-1] > h_v -> fl[h_fx] = fl[h_fx-1]; h_fx--
	:: else -> break
	od;
	fl[h_fx] = h_v; nf++
}

inline fl_remove(k) {
	h_fx = k;
	do
	:: h_fx + 1 < nf -> fl[h_fx] = fl[h_fx+1]; h_fx++
	:: else -> break
	od;
	nf--; fl[nf] = 0
}

inline capture() {   /* h_v into the captured set */
	h_ci = 0;
	do
	:: h_ci < ncap && cap[h_ci] < h_v -> h_ci++
	:: else -> break
	od;
	if
	:: h_ci < ncap && cap[h_ci] == h_v -> skip
	:: else ->
		assert(ncap < MAXC);
		h_tmp = ncap;
		do
		:: h_tmp > h_ci -> cap[h_tmp] = cap[h_tmp-1]; h_tmp--
		:: else -> break
		od;
		cap[h_ci] = h_v; ncap++
	fi
}

inline learn() {   /* token h_lt into the known set */
	if
	:: h_lt != 0 ->
		h_lt = h_lt ^ OWN;
		h_ki = 0;
		do
		:: h_ki < nk && ktok[h_ki] < h_lt -> h_ki++
		:: else -> break
		od;
		if
		:: h_ki < nk && ktok[h_ki] == h_lt -> skip
		:: else ->
			assert(nk < MAXK);
			h_tmp = nk;
			do
			:: h_tmp > h_ki -> ktok[h_tmp] = ktok[h_tmp-1]; h_tmp--
			:: else -> break
			od;
			ktok[h_ki] = h_lt; nk++
		fi
	:: else -> skip
	fi
}

inline leak(a, b) {   /* the client abandoned its session: its tokens leak (at the step's end) */
	h_la = a; h_lb = b
}

inline send() {   /* an honest machine sends h_v (a step sends at most one message) */
	assert(h_out == 0);
	h_out = h_v
}

inline step_end() {   /* the step's send and leak reach the network and the adversary */
	if
	:: h_out != 0 ->
		h_v = h_out;
		fl_insert();
		if
		:: !spent ->
			capture();
			if
			:: M_KIND(h_v) != HELLO && M_KIND(h_v) != CONF1 && M_REG(h_v) == 2 ->
				h_lt = M_TC(h_v); learn(); h_lt = M_TS(h_v); learn()
			:: else -> skip
			fi
		:: else -> skip
		fi
	:: else -> skip
	fi;
	if
	:: h_la != 0 && !spent -> h_lt = h_la; learn(); h_lt = h_lb; learn()
	:: else -> skip
	fi;
	h_out = 0; h_la = 0; h_lb = 0
}

inline led_add(x) {
	h_e = x;
	assert(nl < MAXL);
	h_li = nl;
	do
	:: h_li > 0 && led[h_li-1] > h_e -> led[h_li] = led[h_li-1]; h_li--
	:: else -> break
	od;
	led[h_li] = h_e; nl++
}

inline led_take(x) {   /* h_ok: an entry x was there and is consumed */
	h_e = x; h_ok = 0; h_li = 0;
	do
	:: h_li < nl && led[h_li] != h_e -> h_li++
	:: else -> break
	od;
	if
	:: h_li < nl ->
		h_ok = 1;
		do
		:: h_li + 1 < nl -> led[h_li] = led[h_li+1]; h_li++
		:: else -> break
		od;
		nl--; led[nl] = 0
	:: else -> skip
	fi
}

inline new_token() {
	ntok++; h_nt = ntok;
	assert(ntok < STATIC_TS)
}

/* ---- time ---- */

inline shift1(t) {
	if
	:: t < CLR -> t = t - h_dt
	:: else -> skip
	fi
}

inline shift() {   /* now advances by h_dt: every time is relative to now */
	if
	:: h_dt < 0 -> h_dt = 0
	:: else -> skip
	fi;
	shift1(cdl); shift1(cexp);
	if :: sl[0].st != NONE -> shift1(sl[0].pexp); shift1(sl[0].cexp) :: else -> skip fi;
	if :: sl[1].st != NONE -> shift1(sl[1].pexp); shift1(sl[1].cexp) :: else -> skip fi
}

/* ---- the server (protocol.Server, protocol.Slot) ---- */

inline expire_due() {   /* slot h_s */
	if
	:: HALFOPEN(h_s) && sl[h_s].pexp <= 0 ->
		sl[h_s].st = (sl[h_s].st == AC1 -> NONE : SVER);
		sl[h_s].ptc = 0; sl[h_s].pts = 0; sl[h_s].pexp = CLR
	:: else -> skip
	fi;
	if
	:: VERIFIED(h_s) && sl[h_s].cexp <= 0 ->
		sl[h_s].st = (sl[h_s].st == SVER -> NONE : AC1);
		sl[h_s].ctc = 0; sl[h_s].cts = 0; sl[h_s].cexp = CLR; sl[h_s].last = 0
	:: else -> skip
	fi
}

inline slot_put() {   /* a slot with no session is removed */
	if
	:: sl[h_s].st == NONE ->
		sl[h_s].ptc = 0; sl[h_s].pts = 0; sl[h_s].pexp = 0;
		sl[h_s].ctc = 0; sl[h_s].cts = 0; sl[h_s].cexp = 0; sl[h_s].last = 0;
		sl[h_s].seen[0] = 0; sl[h_s].seen[1] = 0; sl[h_s].seen[2] = 0; sl[h_s].seen[3] = 0
	:: else -> skip
	fi
}

inline srv_hello() {
	if
	:: HALFOPEN(h_s) && h_mtc == sl[h_s].ptc ->   /* a duplicate: the same Validation */
		h_v = MSG(VALID, h_mr, sl[h_s].ptc, sl[h_s].pts, 0); send()
	:: else ->
		if
		:: h_mtc == sl[h_s].seen[0] || h_mtc == sl[h_s].seen[1] || h_mtc == sl[h_s].seen[2] || h_mtc == sl[h_s].seen[3] ->
			skip   /* a late copy of a Hello that opened an earlier session */
		:: else ->
			h_to = (sl[h_s].st == NONE || sl[h_s].st == AC1 -> AC1 : REKEY);
#ifdef STATIC_SERVER_TOKEN
			h_nt = STATIC_TS;
#else
			new_token();
#endif
			sl[h_s].ptc = h_mtc; sl[h_s].pts = h_nt; sl[h_s].pexp = LIFETIME;
			sl[h_s].seen[3] = sl[h_s].seen[2]; sl[h_s].seen[2] = sl[h_s].seen[1];
			sl[h_s].seen[1] = sl[h_s].seen[0]; sl[h_s].seen[0] = h_mtc;
			if
			:: h_to == AC1 -> sl[h_s].ctc = 0; sl[h_s].cts = 0; sl[h_s].cexp = CLR; sl[h_s].last = 0
			:: else -> skip
			fi;
			sl[h_s].st = h_to;
			h_v = MSG(VALID, h_mr, h_mtc, h_nt, 0); send()
		fi
	fi
}

#ifdef NO_SERVER_TOKEN_CHECK
#define TS_OK (1)
#else
#ifdef UNBOUND_REGID
#define TS_OK (h_mts == sl[h_s].pts || HALFOPEN(1-h_s) && sl[1-h_s].pts == h_mts)
#else
#define TS_OK (h_mts == sl[h_s].pts)
#endif
#endif

inline srv_confirm1() {
	if
	:: VERIFIED(h_s) && h_mts == sl[h_s].cts ->   /* a duplicate: the same Confirm2, no claim */
		h_v = MSG(CONF2, h_mr, 0, sl[h_s].cts, 0); send()
	:: else ->
		if
		:: HALFOPEN(h_s) && TS_OK ->
			sl[h_s].ctc = sl[h_s].ptc; sl[h_s].cts = sl[h_s].pts; sl[h_s].cexp = LIFETIME;
			sl[h_s].ptc = 0; sl[h_s].pts = 0; sl[h_s].pexp = CLR;
			sl[h_s].st = SVER; sl[h_s].last = 0;
			h_v = MSG(CONF2, h_mr, 0, sl[h_s].cts, 0); send();
			if
			:: h_mr == 1 ->   /* Running and Commit, server side */
				led_add(MSG(RUN, ROLE_S, sl[h_s].ctc, sl[h_s].cts, 0));
				led_take(MSG(RUN, ROLE_C, sl[h_s].ctc, sl[h_s].cts, 0));
				auth_s = h_ok; assert(auth_s);
				cmdleft = COMMANDS;
				if
				:: nstart > 0 && !srvok && sl[h_s].cts == cts -> srvok = 1
				:: else -> skip
				fi
			:: else -> skip
			fi
		:: else -> skip   /* not half-open, or the wrong Ts */
		fi
	fi
}

inline server_handle() {
	h_s = h_mr - 1;
	if
	:: sl[h_s].st == NONE && h_mk == CONF1 -> skip   /* unknown RegID */
	:: else ->
		expire_due();
		if
		:: h_mk == HELLO -> srv_hello()
		:: else -> srv_confirm1()
		fi;
		slot_put()
	fi
}

inline srv_issue() {
	expire_due();
	if
	:: VERIFIED(h_s) ->
		sl[h_s].last++;
		assert(sl[h_s].last < FORGED);
#ifdef NO_COMMAND_SEQ
		h_msq = 0;
#else
		h_msq = sl[h_s].last;
#endif
		h_v = MSG(CMD, h_mr, 0, sl[h_s].cts, h_msq); send();
		led_add(MSG(ISS, ROLE_S, 0, sl[h_s].cts, h_msq))
	:: else -> skip
	fi;
	slot_put()
}

/* ---- the client (protocol.Client) ---- */

inline arm() {
	cdl = cexp;
	if
	:: RETRIES > 0 -> cdl = MIN(cdl, WAIT(tries))
	:: else -> skip
	fi
}

inline cli_validation() {
#ifdef NO_CLIENT_TOKEN_CHECK
	h_tcok = 1;
#else
	h_tcok = (h_mtc == ctc);
#endif
	if
	:: cst == AV && h_tcok && h_mts != 0 ->
		cst = AC; cts = h_mts; tries = 1; arm();
		h_v = MSG(CONF1, 1, 0, cts, 0); send();
		led_add(MSG(RUN, ROLE_C, ctc, cts, 0))
	:: cst == AC && h_tcok && h_mts == cts ->   /* our Confirm1 may be lost: again */
		h_v = MSG(CONF1, 1, 0, cts, 0); send()
	:: else -> skip
	fi
}

inline client_handle() {
	if
	:: AWAITING && cexp <= 0 -> skip   /* expired */
	:: else ->
		if
		:: h_mk == VALID -> cli_validation()
		:: h_mk == CONF2 && cst == AC && h_mts == cts ->
			cst = CVER; cdl = NEVER;
			led_take(MSG(RUN, ROLE_S, ctc, cts, 0));
			auth_c = h_ok; assert(auth_c)
#ifdef NO_COMMAND_SEQ
		:: h_mk == CMD && cst == CVER && h_mts == cts ->
#else
		:: h_mk == CMD && cst == CVER && h_mts == cts && h_msq > clast ->
			clast = h_msq;
#endif
			led_take(MSG(ISS, ROLE_S, 0, cts, h_msq));
			cmd_ok = h_ok; assert(cmd_ok)
		:: else -> skip
		fi
	fi
}

inline client_timeout() {
	if
	:: cexp <= 0 || tries > RETRIES ->   /* give up: the session's tokens leak */
		cst = CFAIL; cdl = NEVER;
		leaked = 1; leak(ctc, cts)
	:: else ->
		tries++; arm();
		if
		:: cst == AC -> h_v = MSG(CONF1, 1, 0, cts, 0)
		:: else -> h_v = MSG(HELLO, 1, ctc, 0, 0)
		fi;
		send()
	fi
}

inline start() {
	if
	:: !leaked && ctc != 0 -> leak(ctc, cts)
	:: else -> skip
	fi;
	new_token(); ctc = h_nt;
	cst = AV; cts = 0; clast = 0; tries = 1;
	cexp = LIFETIME; arm();
	started++; nstart++; leaked = 0; srvok = 0;
	h_v = MSG(HELLO, 1, ctc, 0, 0); send()
}

/* ---- steps ---- */

inline deliver() {   /* message h_m reaches its receiver */
	h_mk = M_KIND(h_m); h_mr = M_REG(h_m); h_mtc = M_TC(h_m); h_mts = M_TS(h_m); h_msq = M_SEQ(h_m);
	if
	:: h_mk == HELLO || h_mk == CONF1 -> server_handle()
	:: else ->
		if
		:: h_mr == 1 -> client_handle()
		:: else -> skip   /* pushed to the insider's device: no honest client */
		fi
	fi
}

inline inject() {   /* the adversary sends h_m; it is delivered at once */
	ninj++;
	if
	:: ninj >= INJECTS ->   /* spent: what it knew can no longer matter */
		spent = 1;
		nk = 0; ktok[0] = 0; ktok[1] = 0; ktok[2] = 0; ktok[3] = 0;
		ncap = 0;
		h_ci = 0;
		do
		:: h_ci < MAXC -> cap[h_ci] = 0; h_ci++
		:: else -> break
		od
	:: else -> skip
	fi
}

inline check_state() {
	live = !(AWAITING && nf == 0 && cdl == NEVER &&
	         (sl[0].st == NONE || SDL(0) == NEVER) && (sl[1].st == NONE || SDL(1) == NEVER));
	assert(live);
	bounded = (HALFOPEN(0) + HALFOPEN(1) <= CAP);
	assert(bounded)
}

/* ---- the world's steps ----
 * Each step is one transition: an atomic choice of the step (sel, not
 * stored: Spin keeps no state inside an atomic sequence) and one d_step
 * that takes it, shared by all steps so that pan stays small. sel is 0 in
 * every stored state. */

#define A_DELIVER 1
#define A_DROP    2
#define A_DUP     3
#define A_CTIMER  4
#define A_STIMER  5
#define A_START   6
#define A_ISSUE   7
#define A_INJECT  8
#define SEL(a, x) ((a) << 16 | (x))

SCRATCH int sel;   /* written by the choice, read by the d_step right after it */

inline clear_scratch() {
#ifdef SCRATCH_VISIBLE
	h_m = 0; h_v = 0; h_e = 0; h_dt = 0; h_arg = 0; h_out = 0;
	h_la = 0; h_lb = 0;
	h_mk = 0; h_mr = 0; h_mtc = 0; h_mts = 0; h_msq = 0; h_s = 0; h_nt = 0; h_to = 0; h_lt = 0; h_fx = 0; h_ci = 0; h_ki = 0; h_li = 0; h_tmp = 0;
	h_ok = 0; h_tcok = 0; auth_c = 0; auth_s = 0; cmd_ok = 0; live = 0; bounded = 0;
#endif
	skip
}

inline take_step() {
	h_arg = sel & 65535;
	if
	:: sel >> 16 == A_DELIVER -> h_m = fl[h_arg]; fl_remove(h_arg)
	:: sel >> 16 == A_DROP    -> fl_remove(h_arg); ndrop++
	:: sel >> 16 == A_DUP     -> h_v = fl[h_arg]; fl_insert(); ndup++
	:: sel >> 16 == A_CTIMER  -> h_dt = cdl; shift(); client_timeout()
	:: sel >> 16 == A_STIMER  -> h_s = h_arg; h_dt = SDL(h_s); shift(); expire_due(); slot_put()
	:: sel >> 16 == A_START   -> start()
	:: sel >> 16 == A_ISSUE   -> cmdleft--; h_s = 0; h_mr = 1; srv_issue()
	:: sel >> 16 == A_INJECT  -> h_m = h_arg; inject()
	fi;
	if
	:: sel >> 16 == A_DELIVER || sel >> 16 == A_INJECT -> deliver()
	:: else -> skip
	fi;
	step_end();
	check_state();
	clear_scratch();
	sel = 0
}

#define NET(k) \
	:: nf > k -> sel = SEL(A_DELIVER, k) \
	:: nf > k && ndrop < DROPS -> sel = SEL(A_DROP, k) \
	:: nf > k && ndup < DUPS -> sel = SEL(A_DUP, k)

#define SRVTIMER(k) \
	:: SDL(k) != NEVER -> sel = SEL(A_STIMER, k)

#define CAN_INJECT (!spent && ninj < INJECTS)
#define REPLAY(k) \
	:: CAN_INJECT && ncap > k -> sel = SEL(A_INJECT, cap[k])
#define FORGE1(k) \
	:: CAN_INJECT && nk > k -> sel = SEL(A_INJECT, MSG(HELLO, 1, KT(k), 0, 0)) \
	:: CAN_INJECT && nk > k -> sel = SEL(A_INJECT, MSG(CONF1, 1, 0, KT(k), 0)) \
	:: CAN_INJECT && nk > k -> sel = SEL(A_INJECT, MSG(CONF2, 1, 0, KT(k), 0)) \
	:: CAN_INJECT && nk > k -> sel = SEL(A_INJECT, MSG(CMD, 1, 0, KT(k), FORGED)) \
	:: CAN_INJECT && nk > k -> sel = SEL(A_INJECT, MSG(HELLO, 2, KT(k), 0, 0)) \
	:: CAN_INJECT && nk > k -> sel = SEL(A_INJECT, MSG(CONF1, 2, 0, KT(k), 0))
#define FORGE2(k,l) \
	:: CAN_INJECT && nk > k && nk > l -> sel = SEL(A_INJECT, MSG(VALID, 1, KT(k), KT(l), 0))

active proctype world() {
end:	do
	:: atomic {
		if
		NET(0) NET(1) NET(2) NET(3) NET(4) NET(5) NET(6) NET(7)
		:: AWAITING && cdl != NEVER -> sel = SEL(A_CTIMER, 0)
		SRVTIMER(0) SRVTIMER(1)
		:: started < SESSIONS && !AWAITING && nstart < SESSIONS -> sel = SEL(A_START, 0)
		:: cmdleft > 0 && VERIFIED(0) -> sel = SEL(A_ISSUE, 0)
		REPLAY(0) REPLAY(1) REPLAY(2) REPLAY(3) REPLAY(4) REPLAY(5) REPLAY(6) REPLAY(7) REPLAY(8) REPLAY(9)
		FORGE1(0) FORGE1(1) FORGE1(2) FORGE1(3)
		FORGE2(0,0) FORGE2(0,1) FORGE2(0,2) FORGE2(0,3)
		FORGE2(1,0) FORGE2(1,1) FORGE2(1,2) FORGE2(1,3)
		FORGE2(2,0) FORGE2(2,1) FORGE2(2,2) FORGE2(2,3)
		FORGE2(3,0) FORGE2(3,1) FORGE2(3,2) FORGE2(3,3)
		fi;
		d_step { take_step() }
	}
	od
}
