import "./deploy";
import "./issuance";
import "./registry";
import "./rewards";
import "./staking";
import "./governance";
import "./compensation";
import "./consent";
