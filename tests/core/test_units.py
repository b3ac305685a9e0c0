"""Sizes and durations, both ways: every rule of pail.core.units, at its limits."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pail.core.units import (
    MAX_DURATION,
    MAX_SIZE,
    UnitError,
    ago,
    duration_words,
    parse_duration,
    parse_size,
    short_age,
    size_text,
    size_with_bytes,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
KiB, MiB, GiB, TiB, PiB = (1024**n for n in range(1, 6))

# -- reading sizes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512", 512),
        ("0", 0),
        ("512B", 512),
        ("512 b", 512),
        ("10MB", 10_000_000),  # decimal SI: powers of 1,000
        ("10 MB", 10_000_000),
        ("100mb", 100_000_000),
        ("2kB", 2000),
        ("1GB", 10**9),
        ("3TB", 3 * 10**12),
        ("1PB", 10**15),
        ("10MiB", 10 * MiB),  # binary IEC: powers of 1,024
        ("10 mib", 10 * MiB),
        ("1.5GiB", 1_610_612_736),
        ("1 TiB", TiB),
        ("2PiB", 2 * PiB),
        ("10K", 10 * KiB),  # single letters are binary, as in du and rclone
        ("512k", 512 * KiB),
        ("4M", 4 * MiB),
        ("1G", GiB),
        ("1T", TiB),
        ("1P", PiB),
        (".5K", 512),
        ("1.9", 1),  # fractions round down to whole bytes
        ("0.0001KiB", 0),
        ("  64 KiB  ", 64 * KiB),
        (str(MAX_SIZE), MAX_SIZE),  # the largest: a signed 64-bit count
        ("8191.99999PiB", int(Decimal("8191.99999") * PiB)),
    ],
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "not a size"),
        ("   ", "not a size"),
        ("MB", "not a size"),
        ("-1MB", "not a size"),
        ("+1MB", "not a size"),
        ("1.2.3MB", "not a size"),
        ("1e6", "not a size"),
        ("ten", "not a size"),
        ("10XB", "unknown size unit"),
        ("10 bytes", "unknown size unit"),
        ("10Mb ps", "not a size"),
        ("١٠MB", "not a size"),  # Arabic-Indic digits: ASCII only
        ("10\nMB", "not a size"),
        ("10\tMB", "not a size"),
        ("9223372036854775808", "at most"),  # MAX_SIZE + 1
        ("8EiB", "unknown size unit"),  # no unit above PiB
        ("8192PiB", "at most"),
        ("8388608TiB", "at most"),
        ("99999999999999999999PiB", "at most"),
        ("9" * 400, "too long"),  # never converted
        ("1" + "0" * 200 + "B", "too long"),
    ],
)
def test_bad_sizes_are_unit_errors_in_one_line(text, words):
    with pytest.raises(UnitError, match=words) as info:
        parse_size(text)
    message = str(info.value)
    assert "\n" not in message and len(message) < 200
    assert isinstance(info.value, ValueError)


def test_a_size_error_quotes_the_input_safely():
    with pytest.raises(UnitError) as info:
        parse_size("10\x1b[2JXB")
    assert "\x1b" not in str(info.value) and "\\x1b" in str(info.value)


# -- reading durations --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30d", 30 * 86400),
        ("12h", 12 * 3600),
        ("90m", 90 * 60),
        ("2w", 14 * 86400),
        ("45s", 45),
        ("1s", 1),
        ("1d12h", 36 * 3600),
        ("1d 12h", 36 * 3600),
        ("1w2d3h4m5s", 7 * 86400 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5),
        ("1.5h", 5400),
        ("0.5s", 0.5),
        (" 7D ", 7 * 86400),
        ("2W", 14 * 86400),
        ("36525d", 36525 * 86400),  # the longest: 100 years
        ("5217w6d", (5217 * 7 + 6) * 86400),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty duration"),
        ("  ", "empty duration"),
        ("30", "not a duration"),
        ("d", "not a duration"),
        ("30x", "unknown duration unit"),
        ("1 day", "unknown duration unit"),
        ("1y", "unknown duration unit"),
        ("1e3d", "unknown duration unit"),
        ("٣d", "not a duration"),
        ("1d\n12h", "not a duration"),
        ("-3d", "not a duration"),
        ("3d-", "not a duration"),
        ("0d", "greater than zero"),
        ("0s0m", "greater than zero"),
        ("36526d", "at most 100 years"),
        ("36525d1s", "at most 100 years"),
        ("5218w", "at most 100 years"),
        ("99999999999d", "at most 100 years"),
        ("1" + "0" * 40 + "m", "at most 100 years"),
        ("9" * 400 + "s", "too long"),
    ],
)
def test_bad_durations_are_unit_errors_in_one_line(text, words):
    with pytest.raises(UnitError, match=words) as info:
        parse_duration(text)
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


def test_the_limits():
    assert MAX_SIZE == 2**63 - 1
    assert timedelta(days=36525) == MAX_DURATION
    assert parse_duration("36525d") == MAX_DURATION


# -- writing sizes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "human", "text"),
    [
        (None, True, ""),
        (None, False, ""),
        (0, True, "0 B"),
        (1, True, "1 B"),
        (1023, True, "1023 B"),
        (1024, True, "1.0 KiB"),
        (1536, True, "1.5 KiB"),
        (KiB * KiB - 1, True, "1.0 MiB"),  # 1023.999 KiB rounds to the next unit
        (MiB, True, "1.0 MiB"),
        (64 * MiB, True, "64.0 MiB"),
        (int(1.2 * GiB), True, "1.2 GiB"),
        (TiB, True, "1.0 TiB"),
        (PiB, True, "1.0 PiB"),
        (MAX_SIZE, True, "8.0 EiB"),
        (1536, False, "1536"),
        (0, False, "0"),
    ],
)
def test_size_text(size, human, text):
    assert size_text(size, human) == text


def test_size_text_is_human_by_default():
    assert size_text(2048) == "2.0 KiB"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (None, ""),
        (0, "0 bytes"),
        (12, "12 bytes"),
        (1023, "1,023 bytes"),
        (1536, "1.5 KiB (1,536 bytes)"),
        (155_500, "151.9 KiB (155,500 bytes)"),
        (MAX_SIZE, f"8.0 EiB ({MAX_SIZE:,} bytes)"),
    ],
)
def test_size_with_bytes(size, text):
    assert size_with_bytes(size) == text


@pytest.mark.parametrize("text", ["512", "10MB", "1.5GiB", "1 TiB"])
def test_a_parsed_size_prints_back_in_binary_units(text):
    size = parse_size(text)
    assert size_with_bytes(size).endswith(f"{size:,} bytes" + (")" if size >= 1024 else ""))


# -- writing ages and durations -----------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "text", "with_weeks"),
    [
        (timedelta(0), "0s", "0s"),
        (timedelta(seconds=5), "5s", "5s"),
        (timedelta(seconds=59.9), "59s", "59s"),
        (timedelta(minutes=1), "1m", "1m"),
        (timedelta(minutes=5), "5m", "5m"),
        (timedelta(hours=5), "5h", "5h"),
        (timedelta(hours=23, minutes=59), "23h", "23h"),
        (timedelta(days=9), "9d", "9d"),
        (timedelta(days=13, hours=23), "13d", "13d"),
        (timedelta(days=14), "14d", "2w"),
        (timedelta(days=30), "30d", "4w"),
        (timedelta(days=364), "364d", "52w"),
        (timedelta(days=365), "1y", "52w"),
        (timedelta(days=400), "1y", "57w"),
        (timedelta(days=730), "2y", "2y"),
        (timedelta(days=800), "2y", "2y"),
        (timedelta(days=36525), "100y", "100y"),
        (-timedelta(days=1), "0s", "0s"),  # a time in the future
    ],
)
def test_short_age(age, text, with_weeks):
    assert short_age(NOW - age, NOW) == text
    assert short_age(NOW - age, NOW, weeks=True) == with_weeks


def test_short_age_without_a_time_or_a_clock():
    assert short_age(None, NOW) == ""
    assert short_age(datetime.now(timezone.utc) - timedelta(hours=3)) == "3h"


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(days=3), "3 days ago"),
        (timedelta(days=12), "12 days ago"),
        (timedelta(days=1), "a day ago"),
        (timedelta(days=40), "a month ago"),
        (timedelta(hours=2), "2 hours ago"),
        (timedelta(0), "now"),
        (-timedelta(hours=2), "2 hours from now"),
    ],
)
def test_ago(age, text):
    assert ago(NOW - age, NOW) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(days=7), "7 days"),
        (timedelta(days=1), "1 day"),
        (timedelta(hours=36), "1 day and 12 hours"),
        (timedelta(minutes=90), "1 hour and 30 minutes"),
        (45, "45 seconds"),
        (65.7, "1 minute and 6 seconds"),
        (0.4, "0 seconds"),
        (parse_duration("2w"), "14 days"),
    ],
)
def test_duration_words(value, text):
    assert duration_words(value) == text
