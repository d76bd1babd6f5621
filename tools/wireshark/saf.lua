-- saf.lua: Wireshark/tshark dissector for saf (service affinity).
--
--   tshark -X lua_script:tools/wireshark/saf.lua -r capture.pcap -V
--   (or copy to ~/.local/lib/wireshark/plugins/)
--
-- * The TCP Service Affinity option (RFC 6994 experimental option, kind 253
--   with ExID 0x5346 by default): every form of saf's SPEC section 2, with
--   malformed lengths flagged.
-- * The TLS 1.3 extensions: migration_support (0xFE4D), migration_token
--   (0xFE50, decoded field by field) and migrate_notify (0xFE51); tokens in
--   NewSessionTickets show when tshark has the key log
--   (-o tls.keylog_file:FILE); the migrate_notify alert (0xF0).
-- Code points are preferences, as they are configurable in saf.

local saf = Proto("saf", "saf service affinity")

local f = saf.fields
f.tcp_form = ProtoField.string("saf.tcp.form", "Form")
f.tcp_len = ProtoField.uint8("saf.tcp.length", "Length")
f.tcp_family = ProtoField.uint8("saf.tcp.family", "Family")
f.tcp_addr4 = ProtoField.ipv4("saf.tcp.address", "Advertised address")
f.tcp_addr6 = ProtoField.ipv6("saf.tcp.address6", "Advertised address")
f.tcp_port = ProtoField.uint16("saf.tcp.port", "Advertised port")
f.tls_ext = ProtoField.string("saf.tls.extension", "Extension")
f.tok_family = ProtoField.uint8("saf.tls.token.family", "Target family")
f.tok_addr4 = ProtoField.ipv4("saf.tls.token.address", "Target address")
f.tok_addr6 = ProtoField.ipv6("saf.tls.token.address6", "Target address")
f.tok_port = ProtoField.uint16("saf.tls.token.port", "Target port")
f.tok_sid = ProtoField.bytes("saf.tls.token.session_id", "Session id")
f.tok_expiry = ProtoField.uint64("saf.tls.token.expiry", "Expiry (Unix s)")
f.tok_nonce = ProtoField.bytes("saf.tls.token.nonce", "Nonce")
f.tok_sig = ProtoField.bytes("saf.tls.token.signature", "Signature")
f.alert = ProtoField.string("saf.tls.alert", "Alert")

local e_malformed = ProtoExpert.new("saf.malformed", "Malformed saf field",
	expert.group.MALFORMED, expert.severity.WARN)
local e_notify = ProtoExpert.new("saf.migrate_notify", "migrate_notify: the node asks the client to move",
	expert.group.SEQUENCE, expert.severity.NOTE)
saf.experts = { e_malformed, e_notify }

saf.prefs.exid = Pref.uint("TCP option ExID", 0x5346, "Experiment identifier of the SA option")
saf.prefs.kind = Pref.uint("TCP option kind", 253, "Option kind (253 or 254)")
saf.prefs.ext_support = Pref.uint("migration_support", 0xFE4D, "TLS extension type")
saf.prefs.ext_token = Pref.uint("migration_token", 0xFE50, "TLS extension type")
saf.prefs.ext_notify = Pref.uint("migrate_notify", 0xFE51, "TLS extension type")
saf.prefs.alert = Pref.uint("migrate_notify alert", 0xF0, "TLS alert description")

local exp_opt = Field.new("tcp.options.experimental")
local tls_ext_type = Field.new("tls.handshake.extension.type")
local tls_alert = Field.new("tls.alert_message.desc")

local function tcp_option(tree, r)
	local len = r:range(1, 1):uint()
	if r:len() < 4 or r:range(2, 2):uint() ~= saf.prefs.exid then
		return
	end
	local t = tree:add(saf, r, "saf Service Affinity option")
	t:add(f.tcp_len, r:range(1, 1))
	if len == 4 then
		t:add(f.tcp_form, r:range(0, len), "saf")
		t:append_text(": SAF (support flag)")
	elseif (len == 8 or len == 10) and r:len() >= len then
		t:add(f.tcp_form, r:range(0, len), "advert")
		t:add(f.tcp_family, r:range(1, 1), 4)
		t:add(f.tcp_addr4, r:range(4, 4))
		t:append_text(": advert " .. tostring(r:range(4, 4):ipv4()))
		if len == 10 then
			t:add(f.tcp_port, r:range(8, 2))
			t:append_text(":" .. r:range(8, 2):uint())
		end
	elseif (len == 20 or len == 22) and r:len() >= len then
		t:add(f.tcp_form, r:range(0, len), "advert")
		t:add(f.tcp_family, r:range(1, 1), 6)
		t:add(f.tcp_addr6, r:range(4, 16))
		t:append_text(": advert " .. tostring(r:range(4, 16):ipv6()))
		if len == 22 then
			t:add(f.tcp_port, r:range(20, 2))
			t:append_text(" port " .. r:range(20, 2):uint())
		end
	else
		t:add(f.tcp_form, r:range(0, math.min(len, r:len())), "malformed")
		t:add_proto_expert_info(e_malformed, "SA option length " .. len .. " is no form (4, 8, 10, 20, 22): ignored by receivers")
	end
end

-- MigrationToken, SPEC 3.2: exact encodings only.
local function token(tree, tvb, off, n)
	local t = tree:add(saf, tvb:range(off, n), "saf MigrationToken")
	local p, stop = off, off + n
	local function need(k)
		if p + k > stop then
			t:add_proto_expert_info(e_malformed, "token truncated")
			return false
		end
		return true
	end
	if not need(1) then return end
	local typ = tvb:range(p, 1):uint()
	local alen = (typ == 0 and 4) or (typ == 1 and 16) or nil
	if not alen then
		t:add_proto_expert_info(e_malformed, "unknown address type " .. typ)
		return
	end
	t:add(f.tok_family, tvb:range(p, 1), typ == 0 and 4 or 6)
	p = p + 1
	if not need(alen + 2) then return end
	t:add(typ == 0 and f.tok_addr4 or f.tok_addr6, tvb:range(p, alen))
	t:add(f.tok_port, tvb:range(p + alen, 2))
	p = p + alen + 2
	local function vec(field, min, name)
		if not need(1) then return false end
		local l = tvb:range(p, 1):uint()
		if l < min or not need(1 + l) then
			t:add_proto_expert_info(e_malformed, name .. " length " .. l .. " out of range")
			return false
		end
		t:add(field, tvb:range(p + 1, l))
		p = p + 1 + l
		return true
	end
	if not vec(f.tok_sid, 32, "session_id") then return end
	if not need(8) then return end
	t:add(f.tok_expiry, tvb:range(p, 8))
	p = p + 8
	if not vec(f.tok_nonce, 16, "nonce") then return end
	if not vec(f.tok_sig, 32, "signature") then return end
	if p ~= stop then
		t:add_proto_expert_info(e_malformed, (stop - p) .. " trailing bytes")
	end
end

function saf.dissector(tvb, pinfo, tree)
	for _, fi in ipairs({ exp_opt() }) do
		local r = fi.range
		if r and r:len() >= 2 and r:range(0, 1):uint() == saf.prefs.kind then
			tcp_option(tree, r)
		end
	end
	for _, fi in ipairs({ tls_ext_type() }) do
		local typ = fi.value
		-- the data source the field lies in (decrypted TLS has its own)
		local src = fi.source or tvb
		local off = fi.offset
		if typ == saf.prefs.ext_support or typ == saf.prefs.ext_token or typ == saf.prefs.ext_notify then
			local n = src:range(off + 2, 2):uint()
			local t = tree:add(saf, src:range(off, 4 + n), "saf TLS extension")
			if typ == saf.prefs.ext_support then
				t:add(f.tls_ext, src:range(off, 2), "migration_support")
			elseif typ == saf.prefs.ext_notify then
				t:add(f.tls_ext, src:range(off, 2), "migrate_notify")
				t:add_proto_expert_info(e_notify)
			else
				t:add(f.tls_ext, src:range(off, 2), "migration_token")
				if n > 0 then token(t, src, off + 4, n) end
			end
		end
	end
	for _, fi in ipairs({ tls_alert() }) do
		if fi.value == saf.prefs.alert then
			local t = tree:add(saf, fi.range, "saf migrate_notify alert")
			t:add(f.alert, fi.range, "migrate_notify")
			t:add_proto_expert_info(e_notify)
		end
	end
end

register_postdissector(saf)
