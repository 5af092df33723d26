# SPDX-License-Identifier: MIT
# The event schema as a JSON Schema (draft 2020-12), installed as
# $(pkgdatadir)/socktrace-event.schema.json and named in socktrace(7).
# Written by hand; tests/schema.bats holds it to codec/fields.def (the
# keys), codec/calls.def (the calls) and codec/tables/tcpstates.tbl (the
# states), and validates real traces with it.
dist_pkgdata_DATA = schema/socktrace-event.schema.json
TESTS += \
	tests/schema.bats \
	# end of TESTS
