//! Feeds the input as a directory server's SearchResultEntry (BER, read by `ldap3`'s
//! parser) to the contact mapping, under the OpenLDAP and Active Directory presets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockphone::contacts::fuzzing::contacts_from_ber;

fuzz_target!(|data: &[u8]| {
    for contact in contacts_from_ber(data) {
        // A contact can always be reached, and nothing in it can drive a terminal.
        assert!(contact.sip_uri.is_some() || contact.phone.is_some());
        for text in [
            Some(&contact.name),
            contact.sip_uri.as_ref(),
            contact.phone.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            assert!(!text.chars().any(char::is_control), "{contact:?}");
        }
    }
});
