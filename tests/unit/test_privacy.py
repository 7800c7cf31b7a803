"""Masking personal data (PIPL Art. 28): shown masked unless the role may unmask."""

import pytest

from gridmap import privacy


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812345678", "138****5678"),
    ("138 1234 5678", "138****5678"),
    ("+8613812345678", "+86*******5678"),
    ("08718123456", "087****3456"),
    ("1234567", "*******"),
    ("", ""),
    (None, None),
])
def test_mask_phone(phone, masked):
    assert privacy.mask_phone(phone) == masked


@pytest.mark.parametrize(("id_number", "masked"), [
    ("53232919900101123X", "532329********123X"),
    ("532329900101123", "532329*****1123"),
    ("12345", "*****"),
    (None, None),
])
def test_mask_id_number_keeps_first_six_and_last_four(id_number, masked):
    assert privacy.mask_id_number(id_number) == masked


@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张*"),
    ("李小龙", "李**"),
    ("欧阳娜娜", "欧阳**"),
    ("欧阳修", "欧阳*"),
    ("欧阳", "欧*"),
    ("王", "*"),
    ("买买提·艾力", "买**·**"),
    (None, None),
])
def test_mask_name_keeps_the_surname(name, masked):
    assert privacy.mask_name(name) == masked


def test_field_roles_may_unmask_but_leaders_and_admins_may_not():
    assert privacy.may_unmask("grid_worker")
    assert privacy.may_unmask("cadre")
    assert not privacy.may_unmask("leader")
    assert not privacy.may_unmask("admin")


def test_reveal_masks_unless_asked_and_allowed():
    assert privacy.reveal("phone", "13812345678", "grid_worker") == "138****5678"
    assert privacy.reveal("phone", "13812345678", "grid_worker", unmask=True) == "13812345678"
    assert privacy.reveal("phone", "13812345678", "leader", unmask=True) == "138****5678"


def test_reveal_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind of personal data"):
        privacy.reveal("blood_type", "A", "admin")
