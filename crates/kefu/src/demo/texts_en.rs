//! Demo texts in English, in the order of [`super::topics::TOPICS`].

use super::topics::{Phrases, Texts};

pub const PHRASES: Phrases = Phrases {
    greeting: "Hi {name},\n\n",
    signoff: "\n\nIf there is anything else, just reply to this ticket.\n\nBest regards,\n{agent}",
    phone_prefix: "[Phone call] ",
    nudges: &[
        "Any update on this? It has been a few days now.",
        "Just following up. Do you need anything else from me?",
        "Hello? I still haven't heard back about this.",
    ],
    progress: &[
        "Thanks for the details. We are checking with the team concerned and will get back to you within 1–2 business days.",
        "I have passed your case to one of our specialists; we will update you as soon as we know more.",
    ],
    hold_notes: &[
        "Asked the warehouse to confirm stock; waiting for their answer before contacting the customer.",
        "Waiting for the supplier to ship the part; ETA 3 business days.",
        "Sent to finance for review; their turnaround is 3–5 business days.",
    ],
    currency: "${}",
};

pub const TEXTS: [Texts; 11] = [
    // printer
    Texts {
        products: &[
            "KF-P300 laser printer",
            "KF-P520 colour inkjet printer",
            "KF-M800 multifunction printer",
        ],
        cases: &[
            (
                "{product} keeps jamming",
                "Hello, the {product} in our office has been reporting a paper jam since yesterday. We removed the paper but it still shows the error and won't print at all. Serial number {serial}.",
                "Please switch the printer off, open the rear cover and check for torn scraps near the fuser, then hold the Cancel button for 5 seconds to reset it. If it still reports a jam, please send us a photo of the paper feed.",
                "From your photo the pickup roller is worn. Our engineer replaced it on site and printed 50 test pages without a problem. The repair was covered by your warranty, so there is no charge.",
            ),
            (
                "{product} won't connect to Wi-Fi",
                "Since we replaced our router, the {product} won't join the Wi-Fi. I followed the manual to set it up again but the computer still shows it as offline.",
                "Please go to Network Settings → Restore Network Defaults on the printer's panel and set it up again with the KF Assistant app. Note that this model only supports 2.4 GHz networks. If it still fails, let us know your router model.",
                "We updated the printer firmware to v3.2.1 over a remote session and reconfigured the network; wireless printing works again.",
            ),
            (
                "Vertical black streaks on every page from the {product}",
                "Every page from our {product} has a black vertical streak. We already replaced the toner cartridge and nothing changed. Serial {serial}.",
                "Streaks usually come from dirt on the scanner glass or the drum. Please wipe the glass with a dry soft cloth and print a cleaning page (Settings → Maintenance → Cleaning page).",
                "The drum was scratched; we replaced it and the test prints are clean. The repair was free under warranty.",
            ),
        ],
        follow_ups: &[
            "I tried that and it still doesn't work. Photo attached.",
            "Cleaning helped a bit but there is still a faint line.",
            "The router is a Netgear RAX40 and the 2.4 GHz band is on.",
        ],
        notes: &[
            "Serial {serial} is in warranty; ordered spare: pickup roller x1.",
            "Third report of this on the same model this month; flagged to product.",
        ],
    },
    // laptop
    Texts {
        products: &["Nebula Book 14", "Nebula Book Pro 16", "Aurora Air 13"],
        cases: &[
            (
                "{product} won't turn on",
                "My {product} was fine last night, but this morning it doesn't react to the power button at all and the charging light is off. I have important work files on it. Serial {serial}.",
                "Please unplug the charger, hold the power button for 30 seconds, then charge it with the original adapter for 15 minutes and try again. If the charging light stays off, it's likely the adapter or the board's power circuit and we'll need to inspect it.",
                "The diagnosis found a failed power IC on the mainboard. We replaced the board; your data is intact. The laptop is on its way back and you'll get the tracking number by text.",
            ),
            (
                "{product} battery drains very fast",
                "My {product} is about a year old and now lasts just over an hour on a full charge. It used to last seven or eight hours.",
                "Please open KF PC Manager → Battery Health and tell us the maximum capacity. Below 80% the battery is replaced free of charge under warranty.",
                "Your battery was at 62% health, so we replaced it free of charge. A full charge now lasts about 8 hours in our test.",
            ),
        ],
        follow_ups: &[
            "Tried it, still dead. Can I bring it to a store instead?",
            "Maximum capacity shows 62%.",
        ],
        notes: &[
            "Repair order created; device due at the depot on Wednesday.",
            "Customer data is critical: do not reimage the drive.",
        ],
    },
    // phone
    Texts {
        products: &["Dawn X5", "Dawn X5 Pro", "Dawn Lite 8"],
        cases: &[
            (
                "Cracked screen on my {product}",
                "I dropped my {product} and the screen cracked, although it still displays. How much is a screen replacement and how long does it take?",
                "Sorry to hear that! An official screen replacement for the {product} costs {amount}, or nothing if you have accidental damage cover. A store can do it the same day, or you can mail it in (3–5 business days). Which would you prefer?",
                "Your screen was replaced in store and the phone passed a full function test. The new screen has a 90-day warranty.",
            ),
            (
                "{product} battery is swollen",
                "The back cover of my {product} is bulging; I think the battery is swollen. I'm afraid to charge it.",
                "A swollen battery is a safety risk: please stop charging and using the phone and keep it somewhere ventilated. We've booked a priority courier pickup at our expense.",
                "We replaced the battery and back cover free of charge and shipped the phone back. Thank you for telling us so quickly, and sorry for the trouble.",
            ),
        ],
        follow_ups: &[
            "Store please. Is the one downtown open on Saturdays?",
            "It's switched off now. Please arrange the pickup.",
        ],
        notes: &["Swollen battery = safety issue: prioritised and reported to quality."],
    },
    // password
    Texts {
        products: &[],
        cases: &[
            (
                "Forgot my password and can't log in",
                "I forgot my password and the reset email never arrives. I've checked the spam folder too.",
                "To protect your account, please confirm the last four digits of the phone number on the account. We will then send you a new reset link, valid for 30 minutes.",
                "Identity confirmed; we sent a new reset link and can see you have signed in successfully. We recommend turning on two-factor authentication.",
            ),
            (
                "My account is locked",
                "After a few wrong passwords my account says it is locked and I can't do anything.",
                "Accounts lock for 30 minutes after 5 failed attempts. Reply with the last four digits of your phone number and we can unlock it right away.",
                "Identity confirmed and the account is unlocked; you can sign in again.",
            ),
        ],
        follow_ups: &[
            "The last four digits are 0147.",
            "Still no email. Could the address on file be wrong?",
        ],
        notes: &["Verified the phone digits; identity confirmed."],
    },
    // shipping
    Texts {
        products: &[],
        cases: &[
            (
                "Order {order} still not shipped after a week",
                "I placed order {order} a week ago and it still says \"awaiting shipment\". When will it ship?",
                "Sorry for the wait. The items for order {order} were delayed by a warehouse transfer and are due to ship tomorrow; you'll get the tracking number by email.",
                "Order {order} has shipped and should arrive the day after tomorrow. We've added a $10 voucher to your account for the delay.",
            ),
            (
                "Tracking hasn't updated in three days",
                "The tracking for order {order} hasn't moved in three days; it just says \"in transit\".",
                "We've asked the carrier to locate the parcel for order {order}; they usually answer within 24 hours.",
                "The carrier found the parcel held at a sorting centre and has expedited it; it will be delivered this afternoon. Sorry for the inconvenience.",
            ),
            (
                "Wrong item received for order {order}",
                "I received the wrong colour for order {order}: I ordered silver and got black.",
                "Sorry we sent the wrong item. Please send a photo of the item and the label on the box, and we'll ship the right one at our cost.",
                "The replacement is on its way; the courier will collect the wrong item when delivering, so you don't need to send it back separately.",
            ),
        ],
        follow_ups: &[
            "OK, I'll wait another day.",
            "Photos attached.",
            "Still nothing. Can you give me an exact date?",
        ],
        notes: &[
            "Warehouse confirms stock arrived; ships this afternoon.",
            "Raised a trace request with the carrier.",
        ],
    },
    // warranty
    Texts {
        products: &["Nebula Book 14", "Dawn X5", "KF-P300 laser printer"],
        cases: &[
            (
                "Is my {product} still under warranty?",
                "I bought my {product} last June, serial {serial}. Is it still under warranty?",
                "The {product} has a one-year warranty (six months for the battery). Please send the receipt or order number and we'll look up the exact end date.",
                "Your {product} (serial {serial}) is covered until 18 June this year. If it needs a repair, book a store visit or a mail-in repair.",
            ),
            (
                "How do I buy an extended warranty?",
                "The warranty on my {product} is about to expire. How can I buy an extension and what does it cost?",
                "You can add a two-year extension for {amount} before the original warranty ends, under Services → Extended warranty in the app.",
                "Your extended warranty is active until 2028; the certificate has been emailed to you.",
            ),
        ],
        follow_ups: &[
            "The order number is {order}.",
            "I've uploaded a photo of the receipt.",
        ],
        notes: &["Activation date for serial {serial} verified."],
    },
    // refund
    Texts {
        products: &[],
        cases: &[
            (
                "Refund request for order {order}",
                "I no longer need the items in order {order}; they're unopened. I'd like a refund of {amount}.",
                "Thanks, order {order} is within the 30-day return window. Please start a return in the app; once we receive the items we'll refund you within 3 business days.",
                "We've received and checked the return, and refunded {amount} to your original payment method. It should arrive within 1–3 business days.",
            ),
            (
                "Refund still not received",
                "My refund for order {order} shows as processed, but after ten days the money isn't in my account.",
                "The refund of {amount} went to your card last week; banks usually take 3–7 business days. If you send the last four digits of the card we can give you the refund reference.",
                "We sent you the refund reference and your bank has confirmed the money arrived today. Sorry for the wait.",
            ),
        ],
        follow_ups: &[
            "Card ends in 4242.",
            "I've started the return; when will the courier come?",
        ],
        notes: &[
            "Refund of {amount} sent for finance approval.",
            "VIP customer: refund expedited.",
        ],
    },
    // invoice
    Texts {
        products: &[],
        cases: &[
            (
                "VAT invoice needed for order {order}",
                "Our accounts team needs a VAT invoice for order {order} ({amount}). Our company details and VAT number are on the account.",
                "Happy to help. Please confirm that the company name, address and VAT number on the account are correct.",
                "Invoice {invoice} has been issued and emailed to you.",
            ),
            (
                "Invoice {invoice} has the wrong company name",
                "Invoice {invoice} is missing \"Ltd\" in our company name, so finance can't process it. Could you reissue it?",
                "Sorry about that. Please send the exact legal name and we'll cancel the invoice and reissue it within 2 business days.",
                "We cancelled the old invoice and emailed you the corrected one.",
            ),
        ],
        follow_ups: &[
            "Yes, the details are correct.",
            "The correct name is Northwind Traders Ltd.",
        ],
        notes: &["Invoice details checked; sent to finance."],
    },
    // billing dispute
    Texts {
        products: &[],
        cases: &[
            (
                "Charged twice ({amount}) this month",
                "We were charged {amount} twice this month, invoice {invoice}. Please check and refund the duplicate.",
                "Sorry for the trouble. We can see two identical charges and are checking with the payment provider; the duplicate will be refunded as soon as it's confirmed.",
                "It was a duplicate charge on our side: {amount} has been refunded and the underlying issue fixed.",
            ),
            (
                "Billed for the wrong plan",
                "We're on the Standard plan but this month's bill charges us for Professional, {amount} more.",
                "Our records show a plan change on the 3rd of this month. Could you confirm whether you or an administrator made it?",
                "The change was made in error during a system upgrade. We've restored the Standard plan and refunded the difference of {amount}.",
            ),
        ],
        follow_ups: &[
            "Nobody here changed the plan.",
            "Screenshot attached; please refund quickly.",
        ],
        notes: &[
            "Payment provider confirms the duplicate; refund initiated.",
            "Fourth case like this this week; billing owner notified.",
        ],
    },
    // complaint
    Texts {
        products: &["Nebula Book 14", "Dawn X5"],
        cases: &[
            (
                "Complaint: rude agent on the phone",
                "I called your hotline yesterday afternoon and the agent was extremely rude, then hung up before my problem was solved. I expect an explanation.",
                "I'm very sorry about your experience. We take this seriously and are reviewing the call recording. Could you tell us roughly when you called? We will reply within 24 hours.",
                "We reviewed the call and the service fell short of our standards; the agent has been coached. Your original question has also been resolved, and we've added a credit to your account. Please accept our apologies.",
            ),
            (
                "Complaint: three repairs and still broken",
                "My {product} has been repaired three times and fails again within days every time. I want a replacement.",
                "I'm sorry you've had to come back so often. Your case is now with our complaints team; we'll review all three repairs and give you a clear answer within 2 business days.",
                "Your device qualifies for a replacement: we've sent you a brand-new {product} and extended the warranty by a year. Thank you for your patience.",
            ),
        ],
        follow_ups: &[
            "It was around 3 pm.",
            "I'll wait for your answer. I hope it gets fixed this time.",
        ],
        notes: &[
            "Listened to the recording: agent was out of line; passed to QA.",
            "Customer very upset; supervisor should call back.",
        ],
    },
    // upgrade
    Texts {
        products: &[],
        cases: &[
            (
                "Upgrading to the Enterprise plan",
                "Our team grew from 10 to 40 people and we'd like to move to Enterprise. What does it cost and how does the migration work?",
                "Thanks for growing with us! Enterprise is priced per seat: 40 seats are {amount} a year, and data moves over without downtime. When would suit you for a live demo?",
                "Enterprise is active and your data has been migrated. Your account manager will be in touch this week to schedule training.",
            ),
            (
                "Upgrade paid but features missing",
                "We paid for the Professional upgrade yesterday but advanced reports are still unavailable.",
                "Please sign out and back in so the new permissions apply. If that doesn't help, send us the order number and we'll check the activation.",
                "Upgrade order {order} is active; after refreshing permissions the advanced reports are available.",
            ),
        ],
        follow_ups: &[
            "Next Tuesday afternoon works.",
            "Signed out and in again, still missing. Order {order}.",
        ],
        notes: &["Upsell opportunity; handed to key accounts."],
    },
];
