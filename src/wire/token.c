/* SPDX-License-Identifier: MIT */
/* Placeholder: implemented by the foundation issue. */
typedef int saf_placeholder_token;
