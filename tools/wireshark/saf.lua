-- saf.lua: Wireshark/tshark dissector for saf, service affinity for anycast
-- services (see docs/SPEC.md of the saf project).
--
--   * TCP: the Service Affinity option, RFC 6994 shared experimental option
--     (kind 253, ExID 0x5346 "SF"): SAF flag (len 4) and the four advert
--     forms (len 8, 10, 20, 22). Anything else with our ExID is flagged.
--   * TLS 1.3: migration_support (0xFE4D), migration_token (0xFE50, decoded
--     field by field), continuity (0xFE52, docs/continuity.md), migrate_notify (0xFE51) in ClientHello and
--     NewSessionTicket (the latter is encrypted: give tshark a key log with
--     -o tls.keylog_file:FILE), the migrate_notify alert (0xF0), and
--     continuity's early credential, reattach (0xFE53): the ClientHello's
--     mode byte and the EncryptedExtensions' id and target (encrypted too).
--
-- Use:  tshark -X lua_script:saf.lua -r cap.pcap -V
--   or copy to ~/.local/lib/wireshark/plugins/ (or the system plugin dir).
-- Every code point is a preference (Edit > Preferences > Protocols > SAF,
-- or -o saf.tcp_kind:253 etc.).
--
-- Filter fields: saf.opt.*, saf.tls.*; expert infos under saf.*.

local SAF_VERSION = "1"

---------------------------------------------------------------------------
-- TCP option
---------------------------------------------------------------------------

local p_opt = Proto("saf", "saf Service Affinity")

local f = {
	form = ProtoField.string("saf.opt.form", "Form"),
	kind = ProtoField.uint8("saf.opt.kind", "Kind", base.DEC),
	len = ProtoField.uint8("saf.opt.len", "Length", base.DEC),
	exid = ProtoField.uint16("saf.opt.exid", "Experiment ID", base.HEX),
	flag = ProtoField.bool("saf.opt.saf", "Support flag (SAF)"),
	addr4 = ProtoField.ipv4("saf.opt.addr", "Advertised IPv4 address"),
	addr6 = ProtoField.ipv6("saf.opt.addr6", "Advertised IPv6 address"),
	port = ProtoField.uint16("saf.opt.port", "Advertised port", base.DEC),
	port_implied = ProtoField.uint16("saf.opt.port_implied",
		"Port (the connection's, implied)", base.DEC),
	other = ProtoField.bytes("saf.opt.other", "Experimental option (RFC 6994), not saf"),
	other_exid = ProtoField.uint16("saf.opt.other_exid", "Experiment ID", base.HEX),
}
p_opt.fields = { f.form, f.kind, f.len, f.exid, f.flag, f.addr4, f.addr6,
	f.port, f.port_implied, f.other, f.other_exid }

local e = {
	bad_len = ProtoExpert.new("saf.opt.bad_len", "Malformed saf option: length selects no form",
		expert.group.MALFORMED, expert.severity.ERROR),
	advert_not_synack = ProtoExpert.new("saf.opt.advert_not_synack",
		"saf advert outside a SYN-ACK (ignored by a client)",
		expert.group.PROTOCOL, expert.severity.WARN),
	flag_not_syn = ProtoExpert.new("saf.opt.flag_not_syn",
		"saf support flag outside a SYN", expert.group.PROTOCOL, expert.severity.WARN),
	bad_addr = ProtoExpert.new("saf.opt.bad_addr",
		"Advertised address is unspecified, multicast, broadcast or loopback (a client refuses it)",
		expert.group.PROTOCOL, expert.severity.WARN),
	advert = ProtoExpert.new("saf.opt.advert.expert", "saf advert",
		expert.group.SEQUENCE, expert.severity.CHAT),
}
p_opt.experts = { e.bad_len, e.advert_not_synack, e.flag_not_syn, e.bad_addr, e.advert }

p_opt.prefs.tcp_kind = Pref.uint("TCP option kind", 253,
	"Option kind carrying the saf option (RFC 6994 shared experimental: 253 or 254)")
p_opt.prefs.tcp_exid = Pref.uint("TCP option ExID", 0x5346,
	"16-bit experiment identifier (default 0x5346, \"SF\")")

local tcp_flags_f = Field.new("tcp.flags")
local tcp_srcport_f = Field.new("tcp.srcport")

local function tcp_flags()
	local fi = tcp_flags_f()
	if not fi then return nil end
	return fi.value
end

local function v4_refused(r)
	local a, b = r:range(0, 1):uint(), r:range(1, 1):uint()
	return r:uint() == 0 or a == 127 or (a >= 224) -- 224/4 multicast, 240/4 incl. broadcast
end

local function v6_refused(r)
	local zero = true
	for i = 0, 15 do if r:range(i, 1):uint() ~= 0 then zero = false end end
	if zero then return true end
	if r:range(0, 1):uint() == 0xff then return true end -- multicast
	-- ::1
	for i = 0, 14 do if r:range(i, 1):uint() ~= 0 then return false end end
	return r:range(15, 1):uint() == 1
end

-- Dissects one option in tvb (kind, len, ExID, body). Returns true if it
-- was ours.
local function dissect_option(tvb, pinfo, tree)
	if tvb:len() < 4 then return false end
	if tvb:range(2, 2):uint() ~= p_opt.prefs.tcp_exid then return false end
	local olen = tvb:range(1, 1):uint()
	local t = tree:add(p_opt, tvb:range(0, tvb:len()))
	t:add(f.kind, tvb:range(0, 1))
	t:add(f.len, tvb:range(1, 1))
	t:add(f.exid, tvb:range(2, 2))
	local flags = tcp_flags()
	local syn = flags and bit.band(flags, 0x02) ~= 0
	local ack = flags and bit.band(flags, 0x10) ~= 0
	local avail = tvb:len()
	local form
	if olen == 4 then
		form = "SAF (support flag)"
		t:add(f.flag, tvb:range(0, 4), true)
		if flags and not (syn and not ack) then t:add_proto_expert_info(e.flag_not_syn) end
		pinfo.cols.info:append(" [saf SAF]")
	elseif (olen == 8 or olen == 10 or olen == 20 or olen == 22) and avail >= olen then
		local v6 = olen >= 20
		local alen = v6 and 16 or 4
		local ar = tvb:range(4, alen)
		local ai = t:add(v6 and f.addr6 or f.addr4, ar)
		local refused = v6 and v6_refused(ar) or (not v6 and v4_refused(ar))
		if refused then ai:add_proto_expert_info(e.bad_addr) end
		local port
		if olen == 10 or olen == 22 then
			port = tvb:range(4 + alen, 2):uint()
			t:add(f.port, tvb:range(4 + alen, 2))
			form = v6 and "advert v6 + port" or "advert v4 + port"
		else
			local sp = tcp_srcport_f()
			form = v6 and "advert v6" or "advert v4"
			if sp then
				port = sp.value
				t:add(f.port_implied, tvb:range(0, olen), port):set_generated()
			end
		end
		if flags and not (syn and ack) then t:add_proto_expert_info(e.advert_not_synack) end
		local astr = v6 and ("[" .. tostring(ar:ipv6()) .. "]") or tostring(ar:ipv4())
		t:add_proto_expert_info(e.advert, "saf advert: " .. astr .. ":" .. tostring(port or "?"))
		pinfo.cols.info:append(" [saf advert " .. astr .. ":" .. tostring(port or "?") .. "]")
	else
		form = "malformed"
		t:add_proto_expert_info(e.bad_len, "Malformed saf option: length " .. olen ..
			" (valid: 4, 8, 10, 20, 22)")
		pinfo.cols.info:append(" [saf malformed]")
	end
	t:add(f.form, tvb:range(0, 1), form):set_generated()
	t:append_text(": " .. form)
	return true
end

-- Hook: the "tcp.option" dissector table (Wireshark >= 3.4 has it). The
-- built-in experimental-option dissector cannot be chained from Lua (it
-- needs TCP's private data and crashes without it), so options of kind
-- 253/254 with another ExID are shown here generically.
local opt_table = DissectorTable.get("tcp.option")
local hooked_kind

local f_other, f_other_exid = f.other, f.other_exid

function p_opt.dissector(tvb, pinfo, tree)
	if dissect_option(tvb, pinfo, tree) then return tvb:len() end
	local t = tree:add(f_other, tvb:range(0, tvb:len()))
	if tvb:len() >= 4 then
		t:add(f_other_exid, tvb:range(2, 2))
		t:append_text(string.format(" (ExID 0x%04x)", tvb:range(2, 2):uint()))
	end
	return tvb:len()
end

local function hook_kind(kind)
	if not opt_table or hooked_kind == kind then return end
	opt_table:add(kind, p_opt)
	hooked_kind = kind
end

---------------------------------------------------------------------------
-- TLS extensions (a post-dissector over the TLS dissector's fields: unknown
-- extensions keep their type, length and raw data)
---------------------------------------------------------------------------

local p_tls = Proto("saf_tls", "saf TLS migration")
local tf = {
	ext = ProtoField.string("saf.tls.ext", "saf extension"),
	support = ProtoField.bool("saf.tls.migration_support", "migration_support"),
	notify = ProtoField.bool("saf.tls.migrate_notify", "migrate_notify"),
	cont = ProtoField.uint8("saf.tls.continuity.version", "continuity version", base.DEC),
	alert = ProtoField.bool("saf.tls.migrate_notify_alert", "migrate_notify (alert form)"),
	where = ProtoField.string("saf.tls.message", "In handshake message"),
	token = ProtoField.bytes("saf.tls.token", "MigrationToken"),
	atype = ProtoField.uint8("saf.tls.token.addr_type", "target_address.type", base.DEC,
		{ [0] = "ipv4", [1] = "ipv6" }),
	addr4 = ProtoField.ipv4("saf.tls.token.addr", "target_address (IPv4)"),
	addr6 = ProtoField.ipv6("saf.tls.token.addr6", "target_address (IPv6)"),
	port = ProtoField.uint16("saf.tls.token.port", "target_address.port", base.DEC),
	sid_len = ProtoField.uint8("saf.tls.token.session_id_len", "session_id length", base.DEC),
	sid = ProtoField.bytes("saf.tls.token.session_id", "session_id"),
	expiry = ProtoField.uint64("saf.tls.token.expiry", "expiry_timestamp", base.DEC),
	expiry_str = ProtoField.absolute_time("saf.tls.token.expiry_time", "expiry (UTC)",
		base.UTC),
	nonce_len = ProtoField.uint8("saf.tls.token.nonce_len", "nonce length", base.DEC),
	nonce = ProtoField.bytes("saf.tls.token.nonce", "nonce"),
	sig_len = ProtoField.uint8("saf.tls.token.signature_len", "signature length", base.DEC),
	sig = ProtoField.bytes("saf.tls.token.signature", "signature"),
	re_mode = ProtoField.uint8("saf.tls.reattach.mode", "reattach mode", base.DEC,
		{ [0] = "offer", [1] = "reattach" }),
	re_id = ProtoField.bytes("saf.tls.reattach.id", "credential id"),
	re_atype = ProtoField.uint8("saf.tls.reattach.addr_type", "target.type", base.DEC,
		{ [0] = "ipv4", [1] = "ipv6" }),
	re_addr4 = ProtoField.ipv4("saf.tls.reattach.addr", "target (IPv4)"),
	re_addr6 = ProtoField.ipv6("saf.tls.reattach.addr6", "target (IPv6)"),
	re_port = ProtoField.uint16("saf.tls.reattach.port", "target.port", base.DEC),
}
p_tls.fields = { tf.ext, tf.support, tf.notify, tf.cont, tf.alert, tf.where, tf.token, tf.atype,
	tf.addr4, tf.addr6, tf.port, tf.sid_len, tf.sid, tf.expiry, tf.expiry_str,
	tf.nonce_len, tf.nonce, tf.sig_len, tf.sig, tf.re_mode, tf.re_id, tf.re_atype,
	tf.re_addr4, tf.re_addr6, tf.re_port }

local te = {
	bad_token = ProtoExpert.new("saf.tls.token.malformed", "Malformed MigrationToken",
		expert.group.MALFORMED, expert.severity.ERROR),
	bad_body = ProtoExpert.new("saf.tls.nonempty", "saf extension must have an empty body",
		expert.group.MALFORMED, expert.severity.ERROR),
	misplaced = ProtoExpert.new("saf.tls.misplaced", "saf extension in an unexpected message",
		expert.group.PROTOCOL, expert.severity.WARN),
	notify = ProtoExpert.new("saf.tls.notify", "migrate now",
		expert.group.SEQUENCE, expert.severity.NOTE),
	bad_cont = ProtoExpert.new("saf.tls.continuity.malformed",
		"continuity extension must be one byte (the version)",
		expert.group.MALFORMED, expert.severity.ERROR),
	bad_reattach = ProtoExpert.new("saf.tls.reattach.malformed", "Malformed reattach extension",
		expert.group.MALFORMED, expert.severity.ERROR),
}
p_tls.experts = { te.bad_token, te.bad_body, te.misplaced, te.notify, te.bad_cont,
	te.bad_reattach }

p_tls.prefs.ext_support = Pref.uint("migration_support extension", 0xFE4D, "TLS extension type")
p_tls.prefs.ext_token = Pref.uint("migration_token extension", 0xFE50, "TLS extension type")
p_tls.prefs.ext_notify = Pref.uint("migrate_notify extension", 0xFE51, "TLS extension type")
p_tls.prefs.ext_cont = Pref.uint("continuity extension", 0xFE52, "TLS extension type")
p_tls.prefs.ext_reattach = Pref.uint("reattach extension", 0xFE53, "TLS extension type")
p_tls.prefs.alert = Pref.uint("migrate_notify alert", 0xF0, "TLS alert description")

local hs_type_f = Field.new("tls.handshake.type")
local ext_type_f = Field.new("tls.handshake.extension.type")
local ext_len_f = Field.new("tls.handshake.extension.len")
local ext_data_f = Field.new("tls.handshake.extension.data")
local alert_desc_f = Field.new("tls.alert_message.desc")

local HS_NAMES = { [1] = "ClientHello", [2] = "ServerHello", [4] = "NewSessionTicket",
	[8] = "EncryptedExtensions" }

local function same_src(a, b)
	return a.source == b.source
end

-- Decodes a MigrationToken (SPEC 3.2) in range r under tree t. Exact
-- encoding only: the first violation is flagged and decoding stops.
local function decode_token(r, t)
	local n, o = r:len(), 0
	local function need(k, what)
		if o + k > n then
			t:add_proto_expert_info(te.bad_token, "Malformed MigrationToken: truncated in " .. what)
			return false
		end
		return true
	end
	if not need(1, "target_address.type") then return end
	local ty = r:range(o, 1):uint()
	t:add(tf.atype, r:range(o, 1)); o = o + 1
	local alen
	if ty == 0 then alen = 4 elseif ty == 1 then alen = 16 else
		t:add_proto_expert_info(te.bad_token, "Malformed MigrationToken: unknown address type " .. ty)
		return
	end
	if not need(alen + 2, "target_address") then return end
	t:add(alen == 4 and tf.addr4 or tf.addr6, r:range(o, alen)); o = o + alen
	t:add(tf.port, r:range(o, 2)); o = o + 2
	local function vec(lf, vf, lo, what)
		if not need(1, what .. " length") then return false end
		local l = r:range(o, 1):uint()
		local li = t:add(lf, r:range(o, 1)); o = o + 1
		if l < lo then
			li:add_proto_expert_info(te.bad_token, "Malformed MigrationToken: " .. what ..
				" length " .. l .. " < " .. lo)
			return false
		end
		if not need(l, what) then return false end
		t:add(vf, r:range(o, l)); o = o + l
		return true
	end
	if not vec(tf.sid_len, tf.sid, 32, "session_id") then return end
	if not need(8, "expiry_timestamp") then return end
	local er = r:range(o, 8)
	t:add(tf.expiry, er)
	local secs = er:uint64():tonumber()
	t:add(tf.expiry_str, er, NSTime.new(secs, 0)):set_generated()
	o = o + 8
	if not vec(tf.nonce_len, tf.nonce, 16, "nonce") then return end
	if not vec(tf.sig_len, tf.sig, 32, "signature") then return end
	if o ~= n then
		t:add_proto_expert_info(te.bad_token, "Malformed MigrationToken: " .. (n - o) ..
			" trailing bytes")
	end
end

-- The reattach extension (include/saf/reattach.h), exact as
-- src/wire/reattach.c: the ClientHello's one mode byte (0 offer, 1
-- reattach), the EncryptedExtensions' credential id[16] type(1)
-- addr(4|16) port(2), port not 0.
local function decode_reattach(r, msg, t)
	local function bad(why)
		t:add_proto_expert_info(te.bad_reattach, "Malformed reattach extension: " .. why)
	end
	local n = r and r:len() or 0
	if msg == 1 then
		if n ~= 1 then return bad("ClientHello body of " .. n .. " bytes, must be 1") end
		local m = r:range(0, 1):uint()
		t:add(tf.re_mode, r:range(0, 1))
		if m > 1 then bad("unknown mode " .. m) end
		return
	end
	if n < 17 then return bad("credential truncated in " .. (n < 16 and "id" or "address type")) end
	t:add(tf.re_id, r:range(0, 16))
	local ty = r:range(16, 1):uint()
	t:add(tf.re_atype, r:range(16, 1))
	local alen = (ty == 0 and 4) or (ty == 1 and 16) or nil
	if not alen then return bad("unknown address type " .. ty) end
	if n < 17 + alen + 2 then return bad("credential truncated in target") end
	t:add(alen == 4 and tf.re_addr4 or tf.re_addr6, r:range(17, alen))
	t:add(tf.re_port, r:range(17 + alen, 2))
	if n ~= 19 + alen then return bad((n - 19 - alen) .. " trailing bytes") end
	if r:range(17 + alen, 2):uint() == 0 then bad("port 0") end
end

function p_tls.dissector(tvb, pinfo, tree)
	local types = { ext_type_f() }
	local alerts = { alert_desc_f() }
	if #types == 0 and #alerts == 0 then return end
	local lens = { ext_len_f() }
	local datas = { ext_data_f() }
	local hss = { hs_type_f() }
	local P = p_tls.prefs
	for _, a in ipairs(alerts) do
		if a.value == P.alert then
			local t = tree:add(p_tls, a.range)
			t:add(tf.alert, a.range, true)
			t:add_proto_expert_info(te.notify, "migrate_notify alert: migrate now")
			pinfo.cols.info:append(" [saf migrate_notify alert]")
		end
	end
	for _, ty in ipairs(types) do
		local v = ty.value
		if v == P.ext_support or v == P.ext_token or v == P.ext_notify or v == P.ext_cont or
			v == P.ext_reattach then
			local msg, best
			for _, h in ipairs(hss) do
				if same_src(h, ty) and h.offset < ty.offset and (not best or h.offset > best) then
					best = h.offset; msg = h.value
				end
			end
			local elen
			for _, l in ipairs(lens) do
				if same_src(l, ty) and l.offset == ty.offset + 2 then elen = l.value end
			end
			local data
			for _, d in ipairs(datas) do
				if same_src(d, ty) and d.offset == ty.offset + 4 then data = d end
			end
			local name = (v == P.ext_support and "migration_support") or
				(v == P.ext_token and "migration_token") or
				(v == P.ext_cont and "continuity") or
				(v == P.ext_reattach and "reattach") or "migrate_notify"
			local t = tree:add(p_tls, ty.range)
			t:append_text(": " .. name)
			t:add(tf.ext, ty.range, name)
			local mname = HS_NAMES[msg] or ("handshake type " .. tostring(msg))
			t:add(tf.where, ty.range, mname):set_generated()
			if v == P.ext_support then
				t:add(tf.support, ty.range, true)
				if msg ~= 1 then t:add_proto_expert_info(te.misplaced) end
				if elen and elen ~= 0 then t:add_proto_expert_info(te.bad_body) end
			elseif v == P.ext_cont then
				-- docs/continuity.md: one byte, the version; in the
				-- ClientHello and the node's EncryptedExtensions
				if msg ~= 1 and msg ~= 8 then t:add_proto_expert_info(te.misplaced) end
				if data and elen == 1 then
					t:add(tf.cont, data.range(0, 1))
				else
					t:add_proto_expert_info(te.bad_cont)
				end
			elseif v == P.ext_reattach then
				-- the ClientHello's mode, the node's EncryptedExtensions'
				-- credential (docs/continuity.md, "Early credential")
				if msg ~= 1 and msg ~= 8 then
					t:add_proto_expert_info(te.misplaced)
				else
					decode_reattach(data and data.range, msg, t)
				end
			elseif v == P.ext_notify then
				t:add(tf.notify, ty.range, true)
				t:add_proto_expert_info(te.notify, "migrate_notify: migrate now")
				if msg ~= 4 then t:add_proto_expert_info(te.misplaced) end
				if elen and elen ~= 0 then t:add_proto_expert_info(te.bad_body) end
			else
				if msg ~= 1 and msg ~= 4 then t:add_proto_expert_info(te.misplaced) end
				if data then
					local tt = t:add(tf.token, data.range)
					decode_token(data.range, tt)
				else
					t:add_proto_expert_info(te.bad_token, "Malformed MigrationToken: empty")
				end
			end
			pinfo.cols.info:append(" [saf " .. name .. "]")
		end
	end
end

register_postdissector(p_tls, true)

---------------------------------------------------------------------------
-- Without a tcp.option table, fall back to a post-dissector that walks the
-- TCP options itself.
---------------------------------------------------------------------------

local tcp_hdr_len_f = Field.new("tcp.hdr_len")
local tcp_srcport_range_f = tcp_srcport_f

local p_fallback = Proto("saf_tcpopt_walk", "saf TCP option (post-dissector)")
function p_fallback.dissector(tvb, pinfo, tree)
	local hl, sp = tcp_hdr_len_f(), tcp_srcport_range_f()
	if not hl or not sp or hl.value <= 20 then return end
	local base = sp.offset
	local o, stop = base + 20, base + hl.value
	while o < stop do
		local k = tvb:range(o, 1):uint()
		if k == 0 then break end
		if k == 1 then o = o + 1 else
			if o + 1 >= stop then break end
			local l = tvb:range(o + 1, 1):uint()
			if l < 2 or o + l > stop then break end
			if k == p_opt.prefs.tcp_kind then
				dissect_option(tvb:range(o, l):tvb(), pinfo, tree)
			end
			o = o + l
		end
	end
end

if opt_table then
	function p_opt.prefs_changed() hook_kind(p_opt.prefs.tcp_kind) end
	hook_kind(p_opt.prefs.tcp_kind)
else
	register_postdissector(p_fallback)
end

p_opt.prefs.version = Pref.statictext("saf dissector version " .. SAF_VERSION, "")
