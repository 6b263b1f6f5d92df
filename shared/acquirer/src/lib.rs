//! mpp-acquirer (being written).
