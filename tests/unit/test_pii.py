"""PII masking: what the database (and Rasa's tracker) may see of a customer's message.

Every case checks the exact masked text: a masked value keeps only enough digits for the
customer and agent to recognise it, and everything else in the message is untouched.
"""

from __future__ import annotations

import pytest

from gateway.conversations.pii import mask_pii


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我的手机13812345678", "我的手机138****5678"),
        ("13812345678", "138****5678"),
        ("电话：+8613812345678，谢谢", "电话：138****5678，谢谢"),
        ("+86 138 1234 5678", "138****5678"),
        ("+86-138-1234-5678", "138****5678"),
        ("86 13812345678", "138****5678"),
        ("打138-1234-5678找我", "打138****5678找我"),
        ("打138 1234 5678找我", "打138****5678找我"),
        ("19912345678的流量", "199****5678的流量"),
        ("主号13812345678，副卡13987654321", "主号138****5678，副卡139****4321"),
    ],
)
def test_mobile_numbers_keep_only_the_prefix_and_the_last_four(text, masked):
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("身份证号110101199003071234", "身份证号110101********1234"),
        ("身份证11010119900307123X", "身份证110101********123X"),
        ("身份证11010119900307123x。", "身份证110101********123x。"),
        ("证件 440301198512240018 已实名", "证件 440301********0018 已实名"),
    ],
)
def test_resident_id_numbers_keep_the_region_and_the_last_four(text, masked):
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("卡号6222021234567890", "卡号6222 **** **** 7890"),
        ("卡号6222 0212 3456 7890", "卡号6222 **** **** 7890"),
        ("卡号6222-0212-3456-7890扣款", "卡号6222 **** **** 7890扣款"),
        ("卡号62220212345678901", "卡号6222 **** **** 8901"),
        ("卡号6222021234567890123", "卡号6222 **** **** 0123"),
        # 18 digits look exactly like a resident ID: masked the ID way, nothing in the middle leaks
        ("卡号622202123456789012", "卡号622202********9012"),
    ],
)
def test_bank_cards_of_16_to_19_digits_keep_the_first_and_last_four(text, masked):
    assert mask_pii(text) == masked


def test_a_19_digit_card_written_in_groups_of_four_is_masked_whole():
    assert mask_pii("卡号6222 0212 3456 7890 123") == "卡号6222 **** **** 0123"


@pytest.mark.parametrize(
    "text",
    [
        "订单号12345678",
        "订单号 20261124 已发货",
        "退款金额12800元",
        "话费余额 1380.50 元，本月扣了¥1,299.00",
        "2026-11-24 办理的业务",
        "2026年11月24日 09:00–21:00",
        "客服热线10050，或者10086",
        "快递单号SF1234567890123",
        "验证码 138123",
        "1381234567（少一位）和138123456789（多一位）",
        "宽带账号 ad0755123",
    ],
)
def test_numbers_that_are_not_personal_data_are_left_alone(text):
    assert mask_pii(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "工单号WO2026112412345678",  # 16 digits after letters: masked like a card
        "光猫序列号ZTEG13912345678",  # 11 digits after letters: masked like a phone
        "设备码A110101199003071234B",  # 18 digits between letters: masked like a card
    ],
)
def test_digits_inside_longer_alphanumeric_codes_are_left_alone(text):
    assert mask_pii(text) == text


def test_everything_in_one_message_is_masked_and_the_rest_is_kept():
    text = "我叫张三，手机+86 138-1234-5678，身份证11010119900307123X，卡号6222 0212 3456 7890，订单20261124。"
    assert mask_pii(text) == (
        "我叫张三，手机138****5678，身份证110101********123X，卡号6222 **** **** 7890，订单20261124。"
    )


def test_masking_is_idempotent():
    once = mask_pii("手机13812345678 身份证110101199003071234 卡6222021234567890")
    assert mask_pii(once) == once
