"""Grid code schemes (gridmap.codes): village code + serial, and CJ/T 349's 20 digits."""

from __future__ import annotations

import pytest

from gridmap import codes
from gridmap.errors import BadInput

VILLAGE = "532329104201"


def test_a_village_serial_code_is_the_village_code_and_its_serial():
    assert codes.make_grid_code(VILLAGE, 7) == "532329104201007"
    assert codes.make_grid_code(VILLAGE, 7, serial_digits=4) == "5323291042010007"
    codes.check_grid_code("532329104201007", VILLAGE)


def test_a_cjt349_code_carries_the_community_code_in_digits_7_to_18():
    code = codes.make_grid_code(VILLAGE, 3, "cjt349", service_object="110000")
    assert code == "11000053232910420103"
    codes.check_grid_code(code, VILLAGE, "cjt349")
    assert codes.village_in_grid_code(code) == VILLAGE
    assert codes.village_in_grid_code("532329104201007") == VILLAGE


@pytest.mark.parametrize(("code", "scheme", "message"), [
    ("1100005323291042010", "cjt349", "应为 20 位数字"),            # 19 digits
    ("110000532329104201031", "cjt349", "应为 20 位数字"),          # 21 digits
    ("11000053232910420A03", "cjt349", "应为 20 位数字"),           # a letter
    ("11000053232910420203", "cjt349", "第 7–18 位应是所在村"),     # another community
    ("532329104201007", "cjt349", "应为 20 位数字"),                # a village_serial code
    ("532329104202007", "village_serial", "应以所在村代码 532329104201 开头"),
    ("5323291042010007", "village_serial", "3 位序号"),             # serial of 4 digits
    ("53232910420100A", "village_serial", "3 位序号"),
    ("532329104201007", "cj_t_349", "未知"),
])
def test_a_code_that_breaks_the_scheme_is_refused(code, scheme, message):
    with pytest.raises(BadInput, match=message):
        codes.check_grid_code(code, VILLAGE, scheme)


def test_a_village_code_change_reaches_the_grid_codes_of_either_scheme():
    assert codes.recode_grid("532329200201001", "532329200201", VILLAGE) == "532329104201001"
    assert codes.recode_grid("11000053232920020103", "532329200201", VILLAGE) == "11000053232910420103"
    assert codes.recode_grid("532329104202001", "532329200201", VILLAGE) == "532329104202001"  # another village


@pytest.mark.parametrize("code", ["111", "112", "121", "122", "123", "210", "220"])
def test_the_nbs_urban_rural_classes_are_accepted(code):
    codes.check_urban_rural(code)


@pytest.mark.parametrize("code", ["113", "200", "22", "2200", "", "abc"])
def test_an_urban_rural_class_not_in_the_nbs_list_is_refused(code):
    with pytest.raises(BadInput, match="不在国家统计局的分类中"):
        codes.check_urban_rural(code)


def test_village_serial_takes_the_next_serial_after_every_taken_code():
    taken = [VILLAGE + "001", VILLAGE + "007", "532329104202009", "00000" + "0" + VILLAGE + "42"]
    assert codes.next_grid_code(VILLAGE, taken) == VILLAGE + "008"


def test_cjt349_codes_are_twenty_digits_with_the_village_inside():
    taken = ["000000" + VILLAGE + "03", "000000" + VILLAGE + "11", VILLAGE + "099"]
    code = codes.next_grid_code(VILLAGE, taken, "cjt349")
    assert code == "000000" + VILLAGE + "12"
    assert codes.village_in_grid_code(code) == VILLAGE


def test_a_full_village_says_so():
    with pytest.raises(BadInput):
        codes.next_grid_code(VILLAGE, ["000000" + VILLAGE + "99"], "cjt349")
