//! Finding the master key object in the token by label, and creating it there once.
//!
//! PKCS#11 has no "create if absent": two replicas starting together on an empty token
//! can both create a key. A replica therefore looks again after every create (successful
//! or not: some tokens refuse a duplicate label, and then the other replica's key is the
//! one) and refuses to start when more than one object has the label. It never deletes
//! one itself: another replica may already be sealing under it.

use super::pkcs11::{token_error, Create, Pkcs11Config};
use super::MasterKeyError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;

/// The key object's handle in `session`, created in the token if no object has the label
/// and `create` allows it.
pub(super) fn find_or_create(
    session: &Session,
    config: &Pkcs11Config,
    create: Create,
) -> Result<ObjectHandle, MasterKeyError> {
    let found = find(session, config)?;
    if found.is_empty() && create == Create::Never {
        return Err(token_error(
            &config.token_label,
            format!(
                "the key {:?} is no longer in the token; the keys sealed under it cannot be opened",
                config.key_label
            ),
        ));
    }
    if found.is_empty() {
        // A random CKA_ID lets an operator tell objects with the same label apart.
        let id = ironroot_crypto::random_bytes(16)
            .map_err(|e| token_error(&config.token_label, e.to_string()))?;
        let created = generate(session, &config.key_label, id);
        let again = find(session, config)?;
        return match (again.as_slice(), created) {
            ([one], Ok(mine)) if *one == mine => {
                tracing::info!(token = %config.token_label, key_label = %config.key_label,
                    "created the broker master key in the PKCS#11 token");
                Ok(*one)
            }
            ([one], _) => Ok(*one),
            ([], Err(e)) => Err(token_error(
                &config.token_label,
                format!("cannot create the AES-256 key {:?}: {e}", config.key_label),
            )),
            ([], Ok(_)) => Err(token_error(
                &config.token_label,
                format!(
                    "the key {:?} was created but cannot be found",
                    config.key_label
                ),
            )),
            (more, _) => Err(ambiguous(session, config, more)),
        };
    }
    match found.as_slice() {
        [one] => Ok(*one),
        more => Err(ambiguous(session, config, more)),
    }
}

fn find(session: &Session, config: &Pkcs11Config) -> Result<Vec<ObjectHandle>, MasterKeyError> {
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(true),
        Attribute::Label(config.key_label.as_bytes().to_vec()),
    ];
    session.find_objects(&template).map_err(|e| {
        token_error(
            &config.token_label,
            format!("cannot search for the key {:?}: {e}", config.key_label),
        )
    })
}

/// Generates the key inside the token: sensitive and never extractable, so no call can
/// read its value, and usable for encryption and decryption only.
fn generate(
    session: &Session,
    label: &str,
    id: Vec<u8>,
) -> Result<ObjectHandle, cryptoki::error::Error> {
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::ValueLen(32u64.into()),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::Wrap(false),
        Attribute::Unwrap(false),
        Attribute::Sign(false),
        Attribute::Verify(false),
        Attribute::Derive(false),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id),
    ];
    session.generate_key(&Mechanism::AesKeyGen, &template)
}

fn ambiguous(session: &Session, config: &Pkcs11Config, objects: &[ObjectHandle]) -> MasterKeyError {
    let ids: Vec<String> = objects
        .iter()
        .map(|o| {
            match session
                .get_attributes(*o, &[AttributeType::Id])
                .ok()
                .as_deref()
            {
                Some([Attribute::Id(id)]) => hex::encode(id),
                _ => "?".into(),
            }
        })
        .collect();
    MasterKeyError::KeyAmbiguous {
        label: config.key_label.clone(),
        token: config.token_label.clone(),
        count: objects.len(),
        ids: ids.join(", "),
    }
}
