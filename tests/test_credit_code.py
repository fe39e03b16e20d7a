"""Unified social credit codes (GB 32100-2015): real codes pass, every kind of typo fails."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from enterprises.credit_code import ALPHABET, check_character, normalize, validate_credit_code
from enterprises.models import Enterprise

from .factories import DistrictFactory

# Codes published on the national enterprise credit information system (公示系统) and
# the GB 32100-2015 worked example: their check characters are right.
REAL_CODES = [
    "91350100M000100Y43",  # the standard's example
    "914403001922038216",  # 华为技术有限公司
    "9144030071526726XG",  # 深圳市腾讯计算机系统有限公司 (check character X, 17th G)
    "91110000802100433B",  # 中国石油化工股份有限公司
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    validate_credit_code(code)
    assert check_character(code[:17]) == code[17]


def test_a_tianjin_style_code_gets_its_computed_check_character():
    base = "91120000700123456"
    # Weighted sum (weights 3^i mod 31) of the base is 674 = 21 × 31 + 23; 31 − 23 = 8 → "8".
    assert check_character(base) == "8"
    validate_credit_code(base + "8")
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(base + "7")
    assert caught.value.code == "check"


@pytest.mark.parametrize(
    "code, reason",
    [
        ("91350100M000100Y42", "check"),  # last character wrong
        ("91350100M000100Y4", "length"),  # 17 characters
        ("91350100M000100Y433", "length"),  # 19 characters
        ("", "length"),
        ("91350100M0001O0Y43", "alphabet"),  # letter O instead of zero
        ("91350100M0001I0Y43", "alphabet"),
        ("91350100M0001Z0Y43", "alphabet"),
        ("91350100M0001S0Y43", "alphabet"),
        ("91350100M0001V0Y43", "alphabet"),
        ("91350100M000100y43", "alphabet"),  # lower case is not valid as stored
        ("91350100M00010-Y43", "alphabet"),
        ("9135A100M000100Y43", "area"),  # characters 3-8 are the area code digits
    ],
)
def test_invalid_codes_are_refused_with_the_reason(code, reason):
    with pytest.raises(ValidationError) as caught:
        validate_credit_code(code)
    assert caught.value.code == reason


def test_check_character_can_be_zero_and_letters():
    # Codes whose sum is ≡ 0 mod 31 get "0" (31 maps to 0), not an out-of-range index.
    base = next(
        f"9112000070012{n:04d}" for n in range(10_000) if check_character(f"9112000070012{n:04d}") == "0"
    )
    validate_credit_code(base + "0")


def test_enterprise_save_normalises_lower_case_and_spaces(db):
    district = DistrictFactory()
    enterprise = Enterprise(
        name="天津测试规范化有限公司",
        credit_code=" 9144030071526726xg ",
        sector="industrial",
        district=district,
    )
    assert normalize(enterprise.credit_code) == "9144030071526726XG"
    enterprise.save()
    enterprise.refresh_from_db()
    assert enterprise.credit_code == "9144030071526726XG"
    enterprise.full_clean()  # stored form passes the validator


def test_model_validation_refuses_a_wrong_check_character(db):
    enterprise = Enterprise(
        name="天津校验位错误有限公司",
        credit_code="91350100M000100Y42",
        sector="industrial",
        district=DistrictFactory(),
    )
    with pytest.raises(ValidationError) as caught:
        enterprise.full_clean()
    assert "credit_code" in caught.value.message_dict


def test_database_refuses_letters_outside_the_alphabet(db):
    enterprise = Enterprise.objects.create(
        name="天津数据库约束有限公司",
        credit_code="91350100M000100Y43",
        sector="industrial",
        district=DistrictFactory(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Enterprise.objects.filter(pk=enterprise.pk).update(credit_code="91350100M0001O0Y43")
    with pytest.raises(IntegrityError), transaction.atomic():
        Enterprise.objects.filter(pk=enterprise.pk).update(credit_code="91350100m000100y43")


def test_credit_code_is_unique(db):
    district = DistrictFactory()
    Enterprise.objects.create(name="甲", credit_code=REAL_CODES[0], sector="industrial", district=district)
    with pytest.raises(IntegrityError), transaction.atomic():
        Enterprise.objects.create(
            name="乙", credit_code=REAL_CODES[0].lower(), sector="industrial", district=district
        )


# -- properties -----------------------------------------------------------------------------

code_chars = st.sampled_from(ALPHABET)
digits = st.sampled_from("0123456789")
# Positions 1-2 registration type, 3-8 area code (digits), 9-17 organisation code.
bases = st.tuples(
    st.text(code_chars, min_size=2, max_size=2),
    st.text(digits, min_size=6, max_size=6),
    st.text(code_chars, min_size=9, max_size=9),
).map("".join)


@settings(max_examples=200, deadline=None)
@given(bases)
def test_computed_check_character_always_validates(base):
    validate_credit_code(base + check_character(base))


@settings(max_examples=40, deadline=None)
@given(bases)
def test_every_single_character_substitution_is_rejected(base):
    """The weights 3^i mod 31 are never 0 and 31 is prime: one wrong character always shows."""
    code = base + check_character(base)
    for position in range(18):
        for replacement in ALPHABET:
            if replacement == code[position]:
                continue
            typo = code[:position] + replacement + code[position + 1 :]
            with pytest.raises(ValidationError):
                validate_credit_code(typo)
