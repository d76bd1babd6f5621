/* SPDX-License-Identifier: MIT */
/* The scheduler's decision: scores, hysteresis, node timeout and return,
 * replayed and unknown reports, multipath weights. Time is passed in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "saf/sched.h"

static saf_sched s;

static void setup3_mode(bool multipath, saf_sched_score_mode mode)
{
	saf_sched_config c = saf_sched_config_default();
	saf_error err;

	c.score = mode;
	c.multipath = multipath;
	c.min_dwell_ms = 2000;
	c.min_improvement = 0.05;
	c.node_timeout_ms = 1000;
	saf_sched_init(&s, &c);
	assert_int_equal(
		saf_sched_add_node(&s, "n2=10.20.2.2,fd00:20:2::2", &err), 0);
	assert_int_equal(saf_sched_add_node(&s, "n3=10.20.3.2", &err), 0);
	assert_int_equal(
		saf_sched_add_node(&s, "n4=fd00:20:4::2,10.20.4.2", &err), 0);
	/* Each node its own key: 0x12 for n2, 0x13 for n3, 0x14 for n4. */
	saf_sched_keyring kr = {.n = 3};
	for (size_t i = 0; i < 3; i++) {
		snprintf(kr.e[i].name, sizeof(kr.e[i].name), "n%zu", i + 2);
		memset(kr.e[i].key, (int)(0x12 + i), SAF_SCHED_KEY_LEN);
	}
	assert_int_equal(saf_sched_set_keys(&s, &kr, &err), 0);
}

static void setup3(bool multipath)
{
	setup3_mode(multipath, SAF_SCHED_SCORE_L2);
}

static void node_key(const char *name, uint8_t key[SAF_SCHED_KEY_LEN])
{
	memset(key, 0x10 + (name[1] - '0'), SAF_SCHED_KEY_LEN);
}

static void report(const char *node, uint64_t seq, uint16_t load, bool up,
		   uint64_t now)
{
	saf_sched_msg m = {.type = SAF_SCHED_REPORT,
			   .seq = seq,
			   .load = load,
			   .capacity = 1000,
			   .available = up,
			   .stamp = now};

	strcpy(m.node, node);
	assert_non_null(saf_sched_on_report(&s, &m, now, now));
}

static const char *current(void)
{
	return s.current < 0 ? "none" : s.nodes[s.current].name;
}

/* The receive path: a report under another key is dropped and counted as
 * forged and changes nothing; a truncated one is malformed; the genuine
 * one is applied once, and the same bytes again are a replay. */
static void test_datagram_forged_malformed_replayed(void **st)
{
	uint8_t key[SAF_SCHED_KEY_LEN], other[SAF_SCHED_KEY_LEN];
	uint8_t buf[SAF_SCHED_MSG_MAX], forged[SAF_SCHED_MSG_MAX];
	size_t len, flen;
	saf_sched_msg m = {.type = SAF_SCHED_REPORT,
			   .seq = 7,
			   .load = 100,
			   .capacity = 1000,
			   .available = true,
			   .mem = 250,
			   .conns = 70000,
			   .statistics = SAF_CATS_STAT_MEAN,
			   .window_ms = 200,
			   .stamp = 10};
	saf_sched_msg out;
	saf_sched_node *node;
	saf_error err;

	(void)st;
	setup3(false);
	node_key("n3", key);
	memset(other, 0x22, sizeof(other));
	strcpy(m.node, "n3");
	assert_int_equal(
		saf_sched_msg_encode(&m, key, buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(saf_sched_msg_encode(&m, other, forged, sizeof(forged),
					      &flen, &err),
			 0);

	assert_int_equal(
		saf_sched_on_datagram(&s, forged, flen, 10, 10, &out, &node),
		-1);
	assert_null(node);
	assert_int_equal(s.ctr.forged, 1);
	assert_int_equal(s.ctr.reports, 0);
	assert_false(saf_sched_find(&s, "n3")->reported);

	/* one flipped bit in the MAC: forged too */
	buf[len - 1] ^= 1;
	assert_int_equal(
		saf_sched_on_datagram(&s, buf, len, 10, 10, &out, &node), -1);
	assert_int_equal(s.ctr.forged, 2);
	buf[len - 1] ^= 1;

	assert_int_equal(
		saf_sched_on_datagram(&s, buf, len - 1, 10, 10, &out, &node),
		-1);
	assert_int_equal(s.ctr.malformed, 1);
	assert_int_equal(s.ctr.forged, 2);

	/* an agent still on wire version 2: refused, counted as such */
	buf[4] = 2;
	assert_int_equal(
		saf_sched_on_datagram(&s, buf, len, 10, 10, &out, &node), -1);
	assert_int_equal(s.ctr.old_version, 1);
	assert_int_equal(s.ctr.malformed, 1);
	buf[4] = SAF_SCHED_VERSION;

	assert_int_equal(
		saf_sched_on_datagram(&s, buf, len, 20, 20, &out, &node), 0);
	assert_non_null(node);
	assert_string_equal(node->name, "n3");
	assert_int_equal(node->load, 100);
	assert_int_equal(node->mem, 250);
	assert_int_equal(node->conns, 70000);
	assert_int_equal(node->window_ms, 200);
	assert_int_equal(s.ctr.reports, 1);

	assert_int_equal(
		saf_sched_on_datagram(&s, buf, len, 30, 30, &out, &node), 0);
	assert_null(node);
	assert_int_equal(s.ctr.replayed, 1);
	assert_int_equal(s.ctr.reports, 1);
	assert_int_equal(saf_sched_find(&s, "n3")->last_report_ms, 20);
}

/* Issue 14: a compromised agent speaks only for itself. n3's agent, with
 * n3's own key, reports n2 down: forged, n2 unchanged. And n3 cannot
 * answer n2's probes either. */
static void test_node_key_cannot_speak_for_another(void **st)
{
	uint8_t k3[SAF_SCHED_KEY_LEN], buf[SAF_SCHED_MSG_MAX];
	saf_sched_msg m = {.type = SAF_SCHED_REPORT,
			   .seq = 1u << 30,
			   .capacity = 1000,
			   .available = false,
			   .stamp = 1000};
	saf_sched_msg out;
	saf_sched_node *node;
	saf_error err;
	size_t len;

	(void)st;
	setup3(false);
	report("n2", 5, 100, true, 900);
	node_key("n3", k3);
	strcpy(m.node, "n2");
	assert_int_equal(
		saf_sched_msg_encode(&m, k3, buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(
		saf_sched_on_datagram(&s, buf, len, 1000, 1000, &out, &node),
		-1);
	assert_int_equal(s.ctr.forged, 1);
	assert_true(s.nodes[0].available);
	assert_int_equal(s.nodes[0].last_seq, 5);
	/* n3 speaking for itself with the same key: accepted. */
	strcpy(m.node, "n3");
	assert_int_equal(
		saf_sched_msg_encode(&m, k3, buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(
		saf_sched_on_datagram(&s, buf, len, 1000, 1000, &out, &node),
		0);
	assert_ptr_equal(node, &s.nodes[1]);
	/* An echo for n2 under n3's key: forged as well. */
	saf_sched_msg e = {.type = SAF_SCHED_ECHO, .nonce = 77};
	strcpy(e.node, "n2");
	assert_int_equal(
		saf_sched_msg_encode(&e, k3, buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(
		saf_sched_on_datagram(&s, buf, len, 1000, 1000, &out, &node),
		-1);
	assert_int_equal(s.ctr.forged, 2);
	/* A name with no key, and a probe (R1 never receives one). */
	strcpy(e.node, "n9");
	assert_int_equal(
		saf_sched_msg_encode(&e, k3, buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(
		saf_sched_on_datagram(&s, buf, len, 1000, 1000, &out, &node),
		-1);
	assert_int_equal(s.ctr.unknown_node, 1);
	e.type = SAF_SCHED_PROBE;
	assert_int_equal(
		saf_sched_msg_encode(&e, k3, buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(
		saf_sched_on_datagram(&s, buf, len, 1000, 1000, &out, &node),
		-1);
	assert_int_equal(s.ctr.malformed, 1);
}

/* Issue 14: a report captured before R1 restarted, sent again after it,
 * is refused (stamped before the start) though the restarted R1 has no
 * sequence number to compare; so is one held back past the window, and
 * one stamped in the future beyond it. */
static void test_report_freshness_across_restart(void **st)
{
	uint8_t k2[SAF_SCHED_KEY_LEN], buf[SAF_SCHED_MSG_MAX];
	const uint64_t t0 = 1700000000000ull; /* wall clock, ms */
	saf_sched_msg m = {.type = SAF_SCHED_REPORT,
			   .seq = 41,
			   .load = 0,
			   .capacity = 1000,
			   .available = true,
			   .stamp = t0 - 300};
	saf_sched_msg out;
	saf_sched_node *node;
	saf_error err;
	size_t len;

	(void)st;
	node_key("n2", k2);
	strcpy(m.node, "n2");
	assert_int_equal(
		saf_sched_msg_encode(&m, k2, buf, sizeof(buf), &len, &err), 0);
	setup3(false); /* the restarted R1: it started at t0 */
	s.wall_start_ms = t0;
	assert_int_equal(
		saf_sched_on_datagram(&s, buf, len, 5, t0 + 100, &out, &node),
		0);
	assert_null(node);
	assert_int_equal(s.ctr.stale, 1);
	assert_false(s.nodes[0].reported);
	/* Within the window but too old, and too far ahead. */
	m.stamp = t0 + 1000;
	assert_null(saf_sched_on_report(
		&s, &m, 5, t0 + 1000 + s.cfg.report_window_ms + 1));
	m.stamp = t0 + 1000 + s.cfg.report_window_ms + 1;
	assert_null(saf_sched_on_report(&s, &m, 5, t0 + 1000));
	assert_int_equal(s.ctr.stale, 3);
	/* A fresh one is taken; the same again is a replay. */
	m.stamp = t0 + 1000;
	assert_non_null(saf_sched_on_report(&s, &m, 5, t0 + 1200));
	assert_null(saf_sched_on_report(&s, &m, 6, t0 + 1300));
	assert_int_equal(s.ctr.replayed, 1);
}

/* Issue 14: an echo counts once, for the probe it answers, from where the
 * probe went; replayed, unsolicited, late or misdirected echoes are
 * dropped and counted and leave the delay estimate alone. */
static void test_echo_bound_to_probe(void **st)
{
	uint8_t buf[SAF_SCHED_MSG_MAX];
	saf_sched_node *n2;
	saf_sched_msg e = {.type = SAF_SCHED_ECHO};
	saf_error err;
	size_t len;
	const uint64_t ms = 1000000u;

	(void)st;
	setup3(false);
	n2 = &s.nodes[0];
	strcpy(e.node, "n2");
	/* Unsolicited: no probe out. */
	e.nonce = 1234;
	assert_false(saf_sched_on_echo(&s, n2, &e, true, 10 * ms));
	assert_int_equal(s.ctr.echo_unsolicited, 1);
	assert_true(n2->delay_ms < 0);

	assert_int_equal(saf_sched_probe(&s, n2, 1234, 100 * ms, buf,
					 sizeof(buf), &len, &err),
			 0);
	/* The right nonce from the wrong address: dropped. */
	assert_false(saf_sched_on_echo(&s, n2, &e, false, 101 * ms));
	assert_int_equal(s.ctr.echo_wrong_source, 1);
	/* Another nonce: dropped. */
	e.nonce = 1235;
	assert_false(saf_sched_on_echo(&s, n2, &e, true, 101 * ms));
	assert_int_equal(s.ctr.echo_unsolicited, 2);
	/* The answer: RTT from R1's own send time, 2 ms -> 1 ms one way. */
	e.nonce = 1234;
	e.stamp = 0; /* whatever the echo claims is not used */
	assert_true(saf_sched_on_echo(&s, n2, &e, true, 102 * ms));
	assert_true(fabs(n2->delay_ms - 1.0) < 1e-9);
	assert_int_equal(s.ctr.echoes, 1);
	/* The same echo again, a second later: a replay, dropped. */
	assert_false(saf_sched_on_echo(&s, n2, &e, true, 1102 * ms));
	assert_int_equal(s.ctr.echo_unsolicited, 3);
	assert_true(fabs(n2->delay_ms - 1.0) < 1e-9);
	/* Too late: older than the TTL. */
	assert_int_equal(saf_sched_probe(&s, n2, 99, 2000 * ms, buf,
					 sizeof(buf), &len, &err),
			 0);
	e.nonce = 99;
	assert_false(saf_sched_on_echo(&s, n2, &e, true,
				       (2001 + SAF_SCHED_PROBE_TTL_MS) * ms));
	assert_int_equal(s.ctr.echo_unsolicited, 4);
	/* Bounded: more probes than slots forget the oldest. */
	for (uint64_t i = 0; i <= SAF_SCHED_PROBES_OUT; i++)
		assert_int_equal(saf_sched_probe(&s, n2, 500 + i, 3000 * ms,
						 buf, sizeof(buf), &len, &err),
				 0);
	e.nonce = 500;
	assert_false(saf_sched_on_echo(&s, n2, &e, true, 3001 * ms));
	e.nonce = 500 + SAF_SCHED_PROBES_OUT;
	assert_true(saf_sched_on_echo(&s, n2, &e, true, 3001 * ms));
	/* The probe on the wire is signed with n2's key only. */
	uint8_t k2[SAF_SCHED_KEY_LEN], k3[SAF_SCHED_KEY_LEN];
	saf_sched_msg p;
	node_key("n2", k2);
	node_key("n3", k3);
	assert_int_equal(saf_sched_msg_decode(buf, len, k2, &p, &err), 0);
	assert_int_equal(p.nonce, 500 + SAF_SCHED_PROBES_OUT);
	assert_int_equal(saf_sched_msg_decode(buf, len, k3, &p, &err), -1);
}

static void test_add_node_errors(void **st)
{
	saf_error err;

	(void)st;
	setup3(false);
	assert_int_equal(saf_sched_add_node(&s, "n2=10.0.0.1", &err), -1);
	assert_non_null(strstr(err.msg, "given twice"));
	assert_int_equal(saf_sched_add_node(&s, "bad", &err), -1);
	assert_non_null(strstr(err.msg, "NAME=NEXTHOP4"));
	assert_int_equal(saf_sched_add_node(&s, "x=10.0.0.1,10.0.0.2", &err),
			 -1);
	assert_non_null(strstr(err.msg, "two IPv4"));
	assert_int_equal(saf_sched_add_node(&s, "y=not-an-ip", &err), -1);
	assert_int_equal(s.nodes[2].nexthop4.family, 4);
	assert_int_equal(s.nodes[2].nexthop6.family, 6);
}

static void test_picks_lightest_and_scores(void **st)
{
	(void)st;
	setup3_mode(false, SAF_SCHED_SCORE_LEGACY);
	report("n2", 1, 800, true, 100);
	report("n3", 1, 100, true, 100);
	report("n4", 1, 500, true, 100);
	assert_true(saf_sched_decide(&s, 100));
	assert_string_equal(current(), "n3");
	/* score = 0.7 * (1 - load) + 0.3 * 10 / (10 + 10) with unknown delay */
	assert_true(fabs(s.nodes[1].score - (0.7 * 0.9 + 0.15)) < 1e-9);
	assert_true(s.nodes[1].score > s.nodes[2].score);
	assert_true(s.nodes[2].score > s.nodes[0].score);
	s.route_dirty = false;
	assert_false(saf_sched_decide(&s, 150)); /* nothing new */
}

/* The default score is CATS L2 (docs/sched.md): norm_fi / 10, with the
 * levels kept per node. */
static void test_picks_by_l2(void **st)
{
	(void)st;
	setup3(false);
	report("n2", 1, 800, true, 100);
	report("n3", 1, 100, true, 100);
	report("n4", 1, 500, true, 100);
	assert_true(saf_sched_decide(&s, 100));
	assert_string_equal(current(), "n3");
	/* computing 10 * (1 - 0.8 * 0.1) = 9, communication 5 (no delay
	 * yet), service 10: 0.6 * 9 + 0.3 * 5 + 0.1 * 10 = 7.9 -> 8 */
	assert_int_equal(s.nodes[1].l1.computing, 9);
	assert_int_equal(s.nodes[1].l1.communication, 5);
	assert_int_equal(s.nodes[1].l2.norm_fi, 8);
	assert_true(fabs(s.nodes[1].score - 0.8) < 1e-9);
	assert_int_equal(s.nodes[0].l2.norm_fi, 5);
	assert_int_equal(s.nodes[2].l2.norm_fi, 6);
	/* a measured delay moves communication_comb */
	saf_sched_on_rtt(&s, &s.nodes[1], 2.0); /* 1 ms one way */
	saf_sched_decide(&s, 150);
	assert_int_equal(s.nodes[1].l1.communication, 9);
}

static void test_delay_counts(void **st)
{
	(void)st;
	setup3(false);
	report("n2", 1, 300, true, 0);
	report("n3", 1, 300, true, 0);
	report("n4", 1, 300, true, 0);
	saf_sched_on_rtt(&s, &s.nodes[0], 60.0); /* 30 ms one way */
	saf_sched_on_rtt(&s, &s.nodes[1], 2.0);
	saf_sched_on_rtt(&s, &s.nodes[2], 20.0);
	saf_sched_decide(&s, 10);
	assert_string_equal(current(), "n3");
	assert_true(fabs(s.nodes[1].delay_ms - 1.0) < 1e-9);
}

static void test_hysteresis(void **st)
{
	(void)st;
	setup3(false);
	report("n2", 1, 100, true, 0);
	report("n3", 1, 200, true, 0);
	report("n4", 1, 900, true, 0);
	saf_sched_decide(&s, 0);
	assert_string_equal(current(), "n2");
	s.route_dirty = false;
	/* n3 better by 0.7 * 0.03 = 0.021 < min_improvement: stay. */
	report("n2", 2, 250, true, 3000);
	report("n3", 2, 220, true, 3000);
	assert_false(saf_sched_decide(&s, 3000));
	assert_string_equal(current(), "n2");
	/* Clearly better, but within the dwell time of the last change. */
	saf_sched_config c = s.cfg;
	(void)c;
	s.last_change_ms = 2500;
	report("n3", 3, 0, true, 3100);
	assert_false(saf_sched_decide(&s, 3100));
	assert_string_equal(current(), "n2");
	/* After the dwell time it moves. */
	report("n2", 3, 250, true, 4600);
	report("n3", 4, 0, true, 4600);
	report("n4", 2, 900, true, 4600);
	assert_true(saf_sched_decide(&s, 4600));
	assert_string_equal(current(), "n3");
}

static void test_timeout_and_return(void **st)
{
	(void)st;
	setup3(false);
	report("n2", 1, 100, true, 0);
	report("n3", 1, 500, true, 0);
	report("n4", 1, 600, true, 0);
	saf_sched_decide(&s, 0);
	assert_string_equal(current(), "n2");
	s.route_dirty = false;
	/* n2 falls silent: out after the timeout, at once, despite dwell. */
	report("n3", 2, 500, true, 900);
	report("n4", 2, 600, true, 900);
	assert_true(saf_sched_decide(&s, 1100));
	assert_string_equal(current(), "n3");
	assert_false(s.nodes[0].in);
	assert_int_equal(s.ctr.node_timeouts, 1);
	/* n2 reports again: back in, and chosen once the dwell has passed. */
	report("n2", 2, 100, true, 3500);
	report("n3", 3, 500, true, 3500);
	report("n4", 3, 600, true, 3500);
	assert_true(saf_sched_decide(&s, 3500));
	assert_string_equal(current(), "n2");
	assert_int_equal(s.ctr.node_returns, 1);
}

static void test_unavailable_taken_out(void **st)
{
	(void)st;
	setup3(false);
	report("n2", 1, 100, true, 0);
	report("n3", 1, 500, true, 0);
	saf_sched_decide(&s, 0);
	report("n2", 2, 100, false, 100);
	saf_sched_decide(&s, 100);
	assert_string_equal(current(), "n3");
}

static void test_replay_and_unknown(void **st)
{
	saf_sched_msg m = {.type = SAF_SCHED_REPORT,
			   .seq = 5,
			   .load = 100,
			   .capacity = 1000,
			   .available = true};

	(void)st;
	setup3(false);
	strcpy(m.node, "n2");
	assert_non_null(saf_sched_on_report(&s, &m, 0, 0));
	/* The same report again (captured and resent) is dropped, and so is
	 * an older one: it cannot keep a dead node alive. */
	assert_null(saf_sched_on_report(&s, &m, 5000, 0));
	m.seq = 4;
	assert_null(saf_sched_on_report(&s, &m, 5000, 0));
	assert_int_equal(s.ctr.replayed, 2);
	assert_int_equal(s.nodes[0].last_report_ms, 0);
	strcpy(m.node, "n9");
	m.seq = 100;
	assert_null(saf_sched_on_report(&s, &m, 5000, 0));
	assert_int_equal(s.ctr.unknown_node, 1);
}

static void test_restart_grace(void **st)
{
	(void)st;
	setup3(false);
	s.current = 2; /* read back from the kernel after a restart */
	report("n2", 1, 100, true, 1000);
	assert_false(saf_sched_decide(&s, 1000));
	report("n2", 2, 100, true, 1500);
	assert_false(saf_sched_decide(&s, 1500)); /* n4 not heard from yet */
	report("n4", 1, 50, true, 1700);
	assert_false(saf_sched_decide(&s, 1700)); /* n4 reported: stays */
	assert_string_equal(current(), "n4");
}

static void test_restart_grace_expires(void **st)
{
	(void)st;
	setup3(false);
	s.current = 2;
	report("n2", 1, 100, true, 0);
	assert_false(saf_sched_decide(&s, 0));
	report("n2", 2, 100, true, 1100);
	assert_true(saf_sched_decide(&s, 1100)); /* n4 silent: move on */
	assert_string_equal(current(), "n2");
}

static void test_no_node_no_choice(void **st)
{
	(void)st;
	setup3(false);
	assert_false(saf_sched_decide(&s, 0));
	assert_string_equal(current(), "none");
}

static void test_multipath_weights(void **st)
{
	(void)st;
	setup3(true);
	report("n2", 1, 0, true, 0);
	report("n3", 1, 500, true, 0);
	assert_true(saf_sched_decide(&s, 0));
	assert_int_equal(s.nodes[0].weight, 16);
	assert_true(s.nodes[1].weight > 0 && s.nodes[1].weight < 16);
	assert_int_equal(s.nodes[2].weight, 0); /* never reported: not in */
	s.route_dirty = false;
	/* A weight change alone waits for the dwell time... */
	report("n3", 2, 100, true, 500);
	report("n2", 2, 0, true, 500);
	assert_false(saf_sched_decide(&s, 500));
	/* ...a change of the set does not. */
	report("n4", 1, 0, true, 600);
	assert_true(saf_sched_decide(&s, 600));
	assert_int_equal(s.nodes[2].weight, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_node_errors),
		cmocka_unit_test(test_datagram_forged_malformed_replayed),
		cmocka_unit_test(test_node_key_cannot_speak_for_another),
		cmocka_unit_test(test_report_freshness_across_restart),
		cmocka_unit_test(test_echo_bound_to_probe),
		cmocka_unit_test(test_picks_lightest_and_scores),
		cmocka_unit_test(test_picks_by_l2),
		cmocka_unit_test(test_delay_counts),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_timeout_and_return),
		cmocka_unit_test(test_unavailable_taken_out),
		cmocka_unit_test(test_replay_and_unknown),
		cmocka_unit_test(test_no_node_no_choice),
		cmocka_unit_test(test_restart_grace),
		cmocka_unit_test(test_restart_grace_expires),
		cmocka_unit_test(test_multipath_weights),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
