import "./deploy";
import "./issuance";
import "./registry";
import "./rewards";
