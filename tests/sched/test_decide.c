/* SPDX-License-Identifier: MIT */
/* The scheduler's decision: scores, hysteresis, node timeout and return,
 * replayed and unknown reports, multipath weights. Time is passed in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "saf/sched.h"

static saf_sched s;

static void setup3(bool multipath)
{
	saf_sched_config c = saf_sched_config_default();
	saf_error err;

	c.multipath = multipath;
	c.min_dwell_ms = 2000;
	c.min_improvement = 0.05;
	c.node_timeout_ms = 1000;
	saf_sched_init(&s, &c);
	assert_int_equal(saf_sched_add_node(&s, "n2=10.20.2.2,fd00:20:2::2", &err), 0);
	assert_int_equal(saf_sched_add_node(&s, "n3=10.20.3.2", &err), 0);
	assert_int_equal(saf_sched_add_node(&s, "n4=fd00:20:4::2,10.20.4.2", &err), 0);
}

static void report(const char *node, uint64_t seq, uint16_t load, bool up,
		   uint64_t now)
{
	saf_sched_msg m = { .type = SAF_SCHED_REPORT, .seq = seq, .load = load,
			    .capacity = 1000, .available = up };

	strcpy(m.node, node);
	assert_non_null(saf_sched_on_report(&s, &m, now));
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
	saf_sched_msg m = { .type = SAF_SCHED_REPORT, .seq = 7, .load = 100,
			    .capacity = 1000, .available = true };
	saf_sched_msg out;
	saf_sched_node *node;
	saf_error err;

	(void)st;
	setup3(false);
	memset(key, 0x11, sizeof(key));
	memset(other, 0x22, sizeof(other));
	strcpy(m.node, "n3");
	assert_int_equal(saf_sched_msg_encode(&m, key, buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(saf_sched_msg_encode(&m, other, forged, sizeof(forged), &flen, &err), 0);

	assert_int_equal(saf_sched_on_datagram(&s, forged, flen, key, 10, &out, &node), -1);
	assert_null(node);
	assert_int_equal(s.ctr.forged, 1);
	assert_int_equal(s.ctr.reports, 0);
	assert_false(saf_sched_find(&s, "n3")->reported);

	/* one flipped bit in the MAC: forged too */
	buf[len - 1] ^= 1;
	assert_int_equal(saf_sched_on_datagram(&s, buf, len, key, 10, &out, &node), -1);
	assert_int_equal(s.ctr.forged, 2);
	buf[len - 1] ^= 1;

	assert_int_equal(saf_sched_on_datagram(&s, buf, len - 1, key, 10, &out, &node), -1);
	assert_int_equal(s.ctr.malformed, 1);
	assert_int_equal(s.ctr.forged, 2);

	assert_int_equal(saf_sched_on_datagram(&s, buf, len, key, 20, &out, &node), 0);
	assert_non_null(node);
	assert_string_equal(node->name, "n3");
	assert_int_equal(node->load, 100);
	assert_int_equal(s.ctr.reports, 1);

	assert_int_equal(saf_sched_on_datagram(&s, buf, len, key, 30, &out, &node), 0);
	assert_null(node);
	assert_int_equal(s.ctr.replayed, 1);
	assert_int_equal(s.ctr.reports, 1);
	assert_int_equal(saf_sched_find(&s, "n3")->last_report_ms, 20);
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
	assert_int_equal(saf_sched_add_node(&s, "x=10.0.0.1,10.0.0.2", &err), -1);
	assert_non_null(strstr(err.msg, "two IPv4"));
	assert_int_equal(saf_sched_add_node(&s, "y=not-an-ip", &err), -1);
	assert_int_equal(s.nodes[2].nexthop4.family, 4);
	assert_int_equal(s.nodes[2].nexthop6.family, 6);
}

static void test_picks_lightest_and_scores(void **st)
{
	(void)st;
	setup3(false);
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
	saf_sched_msg m = { .type = SAF_SCHED_REPORT, .seq = 5, .load = 100,
			    .capacity = 1000, .available = true };

	(void)st;
	setup3(false);
	strcpy(m.node, "n2");
	assert_non_null(saf_sched_on_report(&s, &m, 0));
	/* The same report again (captured and resent) is dropped, and so is
	 * an older one: it cannot keep a dead node alive. */
	assert_null(saf_sched_on_report(&s, &m, 5000));
	m.seq = 4;
	assert_null(saf_sched_on_report(&s, &m, 5000));
	assert_int_equal(s.ctr.replayed, 2);
	assert_int_equal(s.nodes[0].last_report_ms, 0);
	strcpy(m.node, "n9");
	m.seq = 100;
	assert_null(saf_sched_on_report(&s, &m, 5000));
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
		cmocka_unit_test(test_picks_lightest_and_scores),
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
