"""Phone numbers: the ways Italians write one number are one person; junk is refused."""
import pytest

from chalicelib.domain.phones import (
    MAX_KEY_LENGTH,
    USER_ID_PREFIX,
    InvalidPhone,
    citizen_key,
    mask,
    normalize,
    parse_citizen_key,
)


@pytest.mark.parametrize("raw", ["335 139 7378", "335/1397378", "+39 335 1397378", "0039 3351397378",
                                 "+393351397378", " 3351397378 ", "335-139-7378"])
def test_one_person_however_written(raw):
    assert normalize(raw) == "+393351397378"


def test_landline_and_foreign_numbers():
    assert normalize("0571 123456") == "+390571123456"
    assert normalize("+41 44 668 18 00") == "+41446681800"


@pytest.mark.parametrize("raw", ["", "   ", "abc", "123", "+39 12", "3" * 40, "+39 335 139 7378 999 999"])
def test_junk_is_refused(raw):
    with pytest.raises(InvalidPhone):
        normalize(raw)


def test_mask_hides_all_but_country_and_last_digits():
    assert mask("+393351397378") == "+39******78"
    assert "1397" not in mask("+393351397378")
    assert mask(None) == "-"


LONGEST_BSUID = "IT." + "z9" * 64  # a country code, a dot and 128 characters: the longest the parser reads
LONGEST_CHANNEL = "1" * 64  # the longest phone number id the parser reads


def test_the_longest_citizen_key_fits_every_dynamodb_key_it_is_part_of():
    """Sort keys hold 1,024 bytes (citizens, deliveries: the key alone), partition keys 2,048 (consents, reports'
    reporter: "<channel id>#<key>")."""
    key = citizen_key(None, LONGEST_BSUID)
    assert key == USER_ID_PREFIX + LONGEST_BSUID and len(key) == MAX_KEY_LENGTH == 137
    assert len(f"{LONGEST_CHANNEL}#{key}".encode()) <= 1024


def test_a_key_past_its_bound_is_refused_where_it_is_built_and_where_it_is_read():
    with pytest.raises(ValueError):
        citizen_key(None, "IT." + "a" * 2997)
    for raw in ("bsuid:" + "IT." + "a" * 129, "bsuid:x" * 500, "bsuid:", "bsuid:IT.a|b", "bsuid:IT"):
        with pytest.raises(InvalidPhone):
            parse_citizen_key(raw)
    assert parse_citizen_key(f" bsuid:{LONGEST_BSUID} ") == f"bsuid:{LONGEST_BSUID}"
