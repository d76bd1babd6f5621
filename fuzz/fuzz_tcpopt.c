/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the SA option decoder. Properties: decoding never
 * reads out of bounds; whatever decodes encodes back to the same bytes;
 * the advert chooser always picks a form that fits.
 *
 * The input is decoded twice: with the default kind/ExID, and with the
 * kind and ExID taken from the input itself, so that the fuzzer reaches
 * the body of every form without having to guess 253/0x5346.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saf/tcpopt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const uint8_t *data, size_t size,
		       const saf_tcpopt_cfg *cfg)
{
	uint8_t out[SAF_TCPOPT_MAX_LEN];
	saf_tcpopt opt;
	saf_error err;
	size_t len;

	if (saf_tcpopt_decode(data, size, cfg, &opt, &err))
		return;
	if (saf_tcpopt_encoded_len(&opt) != size)
		abort();
	if (saf_tcpopt_encode(&opt, cfg, out, sizeof(out), &len, &err))
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();
	if (opt.form == SAF_TCPOPT_ADVERT) {
		for (size_t room = 0; room <= SAF_TCP_OPTION_SPACE; room++) {
			saf_tcpopt pick;

			if (saf_tcpopt_choose_advert(&opt.addr, 443, room,
						     &pick, &err) == 0 &&
			    saf_tcpopt_encoded_len(&pick) > room)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	round_trip(data, size, NULL);
	if (size >= 4) {
		saf_tcpopt_cfg cfg = {
			.kind = data[0],
			.exid = (uint16_t)(data[2] << 8 | data[3]),
		};
		round_trip(data, size, &cfg);
	}
	return 0;
}
