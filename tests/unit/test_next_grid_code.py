"""A grid drawn on the map gets the next free code of the county's scheme."""

import pytest

from gridmap import codes
from gridmap.errors import BadInput

VILLAGE = "532329104201"


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
